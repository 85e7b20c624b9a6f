/**
 * Forward-pass latency of models side by side, measured as the design asks on shared machines: the same
 * backend and threads, the same input, the models interleaved round by round (so that a neighbour's load
 * falls on all of them alike), after a warm-up, the median and the fastest round per model.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LatencyFigure } from '../../common/compressionFiles';
import type { AnyModel } from '../models/registry';
import type { Batch } from '../models/types';

function timeOnce(model: AnyModel, batch: Batch): number {
  const t0 = performance.now();
  tf.tidy(() => { model.forward(batch).hidden.dataSync(); });
  return performance.now() - t0;
}

/** Median forward latency of each model on `batch`, `rounds` interleaved rounds after `warmup` each. */
export function interleavedLatency(models: AnyModel[], batch: Batch, rounds = 9, warmup = 2): LatencyFigure[] {
  for (let i = 0; i < warmup; i++) models.forEach((m) => timeOnce(m, batch));
  const samples = models.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) models.forEach((m, i) => samples[i].push(timeOnce(m, batch)));
  return samples.map((s) => {
    const sorted = [...s].sort((a, b) => a - b);
    return { medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], samplesMs: s };
  });
}
