/**
 * Latency per sequence and throughput, measured as measured: one held-out batch, a few untimed warm-up runs,
 * then timed repetitions of at least 20 ms each (at most COMPARE_LIMITS.latencyReps, fewer once
 * COMPARE_LIMITS.latencyBudgetMs per model is spent), the models of a comparison timed side by side,
 * interleaved, the median kept. TF.js runs the float models on the comparison's backend; ONNX Runtime runs an
 * int8 variant's MatMulInteger graph and its float32 twin (the same weights, engine/export/onnxModels.ts) with
 * as many threads, on the same batch. Nothing here claims a speedup: the figures are what the clock said.
 */
import * as ort from 'onnxruntime-node';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { COMPARE_LIMITS, type Latency, type LatencyRuntime } from '../../common/compare';
import { hfUnrepresentable } from '../../common/hfConfig';
import { bundleOnnx } from '../export/onnxModels';
import { onnxFeeds, type Probe } from '../export/probe';
import { paramSource } from '../export/verify';
import { BERT } from '../models/bert/model';
import type { AnyModel } from '../models/registry';
import { toBatch, type HostBatch } from '../training/pretrainData';

/** Untimed runs before the clock starts: the first calls of a graph or a kernel compile and allocate, which a user's steady state does not. */
const WARM_UP_RUNS = 3;

type Runner = () => Promise<void> | void;
export interface Timing { medianMs: number; reps: number }

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** A timed repetition lasts at least this long (the batch run several times over when one run is shorter): a sub-millisecond run is all timer and scheduler noise. */
const MIN_REP_MS = 20;
const MAX_RUNS_PER_REP = 64;

/**
 * Times each runner after its warm-up, interleaved — a, b, a, b, … — so that a slow spell of a shared machine
 * falls on every model alike and their ratio holds; the median of each, per run. `yieldNow` between
 * repetitions lets a cancel in.
 */
export async function timeInterleaved(runners: Runner[], yieldNow: () => Promise<void>): Promise<Timing[]> {
  let slowest = 0;
  for (const run of runners) {
    for (let i = 0; i < WARM_UP_RUNS; i++) {
      const t0 = performance.now();
      await run();
      if (i === WARM_UP_RUNS - 1) slowest = Math.max(slowest, performance.now() - t0);
      await yieldNow();
    }
  }
  const runsPerRep = Math.min(MAX_RUNS_PER_REP, Math.max(1, Math.ceil(MIN_REP_MS / Math.max(slowest, 1e-3))));
  const times = runners.map(() => [] as number[]);
  const start = performance.now();
  const budget = COMPARE_LIMITS.latencyBudgetMs * runners.length;
  while (times[0].length < COMPARE_LIMITS.latencyReps && (times[0].length < 2 || performance.now() - start < budget)) {
    for (const [i, run] of runners.entries()) {
      await yieldNow();
      const t0 = performance.now();
      for (let k = 0; k < runsPerRep; k++) await run();
      times[i].push((performance.now() - t0) / runsPerRep);
    }
  }
  return times.map((t) => ({ medianMs: median(t), reps: t.length }));
}

function latencyOf(runtime: LatencyRuntime, t: Timing, h: HostBatch, threads: number, reference?: { of: NonNullable<Latency['reference']>['of']; timing: Timing }): Latency {
  const ms = Math.max(t.medianMs, 1e-6);
  return {
    runtime, msPerSequence: ms / h.B, sequencesPerSecond: (h.B * 1000) / ms, batch: h.B, seqLen: h.T, threads, reps: t.reps,
    ...(reference ? { reference: { of: reference.of, ratio: ms / Math.max(reference.timing.medianMs, 1e-6) } } : {}),
  };
}

/** The model's forward pass to its language-model logits, read back to the host as a caller would. */
function tfjsRunner(model: AnyModel, h: HostBatch): Runner {
  return () => tf.tidy(() => {
    const { hidden } = model.forward(toBatch(h));
    (model instanceof BERT ? model.mlmLogits(hidden) : model.lmLogits(hidden)).dataSync();
  });
}

/** The model's bundle graph (float32, or int8 projections) in an ONNX Runtime session with `threads` threads, and its feeds. */
async function onnxRunner(model: AnyModel, int8: boolean, h: HostBatch, threads: number): Promise<{ run: Runner; release: () => Promise<void> }> {
  const graph = bundleOnnx(model.config, paramSource(model.params), { int8 });
  const session = await ort.InferenceSession.create(graph, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
  const feeds = onnxFeeds(session.inputNames, probeOf(model, h));
  return { run: async () => { await session.run(feeds); }, release: () => session.release() };
}

export interface RowLatencyOptions {
  /** the base, whose TF.js time a float variant's is set against (timed interleaved with it); null for the base's own row */
  base: AnyModel | null;
  /** an int8 variant: timed where int8 runs, its int8 graph against its float32 twin */
  int8: boolean;
  /** also the model's float32 graph in ONNX Runtime (the base's, when an int8 variant is compared) */
  onnxFloat: boolean;
  threads: number;
}

/**
 * A row's latencies on batch `h`: a float model in TF.js (a variant interleaved with its base, its ratio to the
 * base's time kept), an int8 variant's int8 graph interleaved with its float32 twin in ONNX Runtime. A model
 * the bundle graphs cannot express gets no ONNX figure, and a note saying why.
 */
export async function rowLatencies(model: AnyModel, h: HostBatch, o: RowLatencyOptions, yieldNow: () => Promise<void>): Promise<{ latency: Latency[]; notes: string[] }> {
  const latency: Latency[] = [];
  const notes: string[] = [];
  if (!o.int8) {
    const [own, base] = await timeInterleaved(o.base ? [tfjsRunner(model, h), tfjsRunner(o.base, h)] : [tfjsRunner(model, h)], yieldNow);
    latency.push(latencyOf('tfjs', own, h, o.threads, base ? { of: 'base', timing: base } : undefined));
  }
  if (!o.int8 && !o.onnxFloat) return { latency, notes };
  const problems = hfUnrepresentable(model.config);
  if (problems.length) {
    notes.push(`ONNX Runtime latency not measured: the bundle graphs cannot express this model (${problems.join('; ')})`);
    return { latency, notes };
  }
  const graphs = [await onnxRunner(model, false, h, o.threads), ...(o.int8 ? [await onnxRunner(model, true, h, o.threads)] : [])];
  try {
    const [f32, i8] = await timeInterleaved(graphs.map((g) => g.run), yieldNow);
    latency.push(latencyOf('onnx-float32', f32, h, o.threads));
    if (i8) latency.push(latencyOf('onnx-int8', i8, h, o.threads, { of: 'float32-twin', timing: f32 }));
  } finally {
    for (const g of graphs) await g.release();
  }
  if (o.int8) notes.push('int8 speed is ONNX Runtime\'s (MatMulInteger) against the float32 graph of the same weights, timed interleaved; TF.js has no int8 kernels, so it is not timed there');
  return { latency, notes };
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
