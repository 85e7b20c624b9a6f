/**
 * Latency per sequence and throughput, measured as measured: one held-out batch, a few untimed warm-up runs, then
 * timed repetitions (at most COMPARE_LIMITS.latencyReps, fewer when COMPARE_LIMITS.latencyBudgetMs is spent),
 * the median kept. TF.js runs the float models on the comparison's backend; ONNX Runtime runs an int8
 * variant's MatMulInteger graph and its float32 twin (the same weights, engine/export/onnxModels.ts) with as
 * many threads, on the same batch. Nothing here claims a speedup: the figures are what the clock said.
 */
import * as ort from 'onnxruntime-node';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { COMPARE_LIMITS, type Latency, type LatencyRuntime } from '../../common/compare';
import { bertOnnx, gptOnnx } from '../export/onnxModels';
import { onnxFeeds, type Probe } from '../export/probe';
import { paramSource } from '../export/verify';
import { BERT } from '../models/bert/model';
import type { AnyModel } from '../models/registry';
import { toBatch, type HostBatch } from '../training/pretrainData';

/** Untimed runs before the clock starts: the first calls of a graph or a kernel compile and allocate, which a user's steady state does not. */
const WARM_UP_RUNS = 3;

/** Times `once` after a warm-up; `yieldNow` between repetitions lets a cancel in. */
export async function timeRepetitions(once: () => Promise<void> | void, yieldNow: () => Promise<void>): Promise<{ medianMs: number; reps: number }> {
  for (let i = 0; i < WARM_UP_RUNS; i++) {
    await once();
    await yieldNow();
  }
  const times: number[] = [];
  const start = performance.now();
  while (times.length < COMPARE_LIMITS.latencyReps && (times.length < 2 || performance.now() - start < COMPARE_LIMITS.latencyBudgetMs)) {
    await yieldNow();
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const medianMs = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  return { medianMs, reps: times.length };
}

function latencyOf(runtime: LatencyRuntime, t: { medianMs: number; reps: number }, h: HostBatch, threads: number): Latency {
  const ms = Math.max(t.medianMs, 1e-6);
  return { runtime, msPerSequence: ms / h.B, sequencesPerSecond: (h.B * 1000) / ms, batch: h.B, seqLen: h.T, threads, reps: t.reps };
}

/** The model's forward pass to its language-model logits, read back to the host as a caller would. */
export async function tfjsLatency(model: AnyModel, h: HostBatch, threads: number, yieldNow: () => Promise<void>): Promise<Latency> {
  const once = () => tf.tidy(() => {
    const { hidden } = model.forward(toBatch(h));
    (model instanceof BERT ? model.mlmLogits(hidden) : model.lmLogits(hidden)).dataSync();
  });
  return latencyOf('tfjs', await timeRepetitions(once, yieldNow), h, threads);
}

/** The batch in the form the bundle graphs take (a GPT's empty key/value cache included). */
export function probeOf(model: AnyModel, h: HostBatch): Probe {
  const c = model.config;
  return {
    batch: h.B, length: h.T, inputIds: Array.from(h.inputIds),
    attentionMask: h.attentionMask ? Array.from(h.attentionMask) : new Array<number>(h.B * h.T).fill(1),
    tokenTypeIds: h.tokenTypeIds ? Array.from(h.tokenTypeIds) : new Array<number>(h.B * h.T).fill(0),
    cacheShape: [h.B, c.nHeads, 0, c.headDim],
  };
}

/** The model's bundle graph (float32, or int8 projections) run by ONNX Runtime on the batch with `threads` threads. */
export async function onnxLatency(model: AnyModel, int8: boolean, h: HostBatch, threads: number, yieldNow: () => Promise<void>): Promise<Latency> {
  const build = model.config.arch === 'gpt' ? gptOnnx : bertOnnx;
  const graph = build(model.config, paramSource(model.params), { int8 });
  const session = await ort.InferenceSession.create(graph, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
  try {
    const feeds = onnxFeeds(session.inputNames, probeOf(model, h));
    const t = await timeRepetitions(async () => { await session.run(feeds); }, yieldNow);
    return latencyOf(int8 ? 'onnx-int8' : 'onnx-float32', t, h, threads);
  } finally {
    await session.release();
  }
}
