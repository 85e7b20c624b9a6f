/**
 * Microbenchmarks of the ops a GPT training step uses, on the wasm backend (or any other).
 * Usage: node --import tsx engine/backends/microbench.ts [--backend wasm|cpu] [--threads N] [--only SUBSTR] [--json]
 * Prints one line per case: milliseconds per call (median of several timed batches) and GFLOP/s
 * where the FLOP count is meaningful. The numbers in PERF.md come from this script.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers the gradients (tfjs-core's Node bundle has none)
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { prepareWasmThreads } from './wasmThreads';
import { registerWasmKernelPatches, unregisterWasmKernelPatches } from './wasmKernels';
import * as fused from './fusedOps';

interface Case {
  name: string;
  flops?: number;
  /** builds inputs once; returns the function timed (which must dispose what it makes) */
  setup(): () => void;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

function time(fn: () => void, minMs = 150): number {
  for (let i = 0; i < 3; i++) fn();
  // calibrate
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    const dt = performance.now() - t0;
    if (dt > 30 || n > 1e6) { n = Math.max(1, Math.ceil((n * minMs) / 5 / Math.max(dt, 0.01))); break; }
    n *= 4;
  }
  const samples: number[] = [];
  for (let s = 0; s < 5; s++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    samples.push((performance.now() - t0) / n);
  }
  samples.sort((a, b) => a - b);
  return samples[2];
}

const r = (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32');

/** wraps a op-producing function so the timed call disposes what it made */
function op(f: () => tf.Tensor | tf.Tensor[]): () => void {
  return () => { const o = f(); if (Array.isArray(o)) o.forEach((t) => t.dispose()); else o.dispose(); };
}

const B = 12, T = 64, C = 128, H = 4, HD = 32, M = B * T;

const cases: Case[] = [
  // --- per-call overhead
  { name: 'overhead: add [1]+[1]', setup() { const a = r([1]), b = r([1]); return op(() => tf.add(a, b)); } },
  { name: 'overhead: reshape [768,128]', setup() { const a = r([M, C]); return op(() => tf.reshape(a, [B, T, C])); } },
  { name: 'overhead: tidy(add [1]+[1])', setup() { const a = r([1]), b = r([1]); return () => tf.tidy(() => { tf.add(a, b); }); } },
  // --- matMul
  { name: 'matMul [768,128]@[128,384]', flops: 2 * M * C * 3 * C, setup() { const a = r([M, C]), b = r([C, 3 * C]); return op(() => tf.matMul(a, b)); } },
  { name: 'matMul [768,128]@[128,512]', flops: 2 * M * C * 4 * C, setup() { const a = r([M, C]), b = r([C, 4 * C]); return op(() => tf.matMul(a, b)); } },
  { name: 'matMul [768,512]@[512,128]', flops: 2 * M * C * 4 * C, setup() { const a = r([M, 4 * C]), b = r([4 * C, C]); return op(() => tf.matMul(a, b)); } },
  { name: 'matMul [768,128]@[128,128]', flops: 2 * M * C * C, setup() { const a = r([M, C]), b = r([C, C]); return op(() => tf.matMul(a, b)); } },
  { name: 'matMul [768,128]@[128,65]', flops: 2 * M * C * 65, setup() { const a = r([M, C]), b = r([C, 65]); return op(() => tf.matMul(a, b)); } },
  { name: 'matMul transposeB [768,384]@[128,384]^T (dX)', flops: 2 * M * C * 3 * C, setup() { const a = r([M, 3 * C]), b = r([C, 3 * C]); return op(() => tf.matMul(a, b, false, true)); } },
  { name: 'matMul transposeA [768,128]^T@[768,384] (dW)', flops: 2 * M * C * 3 * C, setup() { const a = r([M, C]), b = r([M, 3 * C]); return op(() => tf.matMul(a, b, true, false)); } },
  { name: 'transpose+matMul [128,384]->[384,128]; [768,384]@[384,128]', flops: 2 * M * C * 3 * C, setup() { const a = r([M, 3 * C]), b = r([C, 3 * C]); return op(() => { const bt = tf.transpose(b); const o = tf.matMul(a, bt); bt.dispose(); return o; }); } },
  { name: 'transpose+matMul [768,128]->[128,768]; @[768,384]', flops: 2 * M * C * 3 * C, setup() { const a = r([M, C]), b = r([M, 3 * C]); return op(() => { const at = tf.transpose(a); const o = tf.matMul(at, b); at.dispose(); return o; }); } },
  { name: 'matMul+add bias [768,128]@[128,384]+[384]', flops: 2 * M * C * 3 * C, setup() { const a = r([M, C]), b = r([C, 3 * C]), bias = r([3 * C]); return op(() => tf.tidy(() => tf.add(tf.matMul(a, b), bias))); } },
  { name: 'fused.matMul with bias [768,128]@[128,384]+[384]', flops: 2 * M * C * 3 * C, setup() { const a = r([M, C]), b = r([C, 3 * C]), bias = r([3 * C]); return op(() => tf.fused.matMul({ a, b, bias })); } },
  { name: 'linear fwd+bwd (tf.fused.matMul+bias) [768,128]@[128,384]', flops: 6 * M * C * 3 * C, setup() {
    const a = r([M, C]), b = r([C, 3 * C]), bias = r([3 * C]), dy = r([M, 3 * C]);
    const g = tf.grads((x: tf.Tensor, w: tf.Tensor, bb: tf.Tensor) => tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: bb }));
    return op(() => g([a, b, bias], dy));
  } },
  { name: 'linear fwd+bwd (matMul, add) [768,128]@[128,384]', flops: 6 * M * C * 3 * C, setup() {
    const a = r([M, C]), b = r([C, 3 * C]), bias = r([3 * C]), dy = r([M, 3 * C]);
    const g = tf.grads((x: tf.Tensor, w: tf.Tensor, bb: tf.Tensor) => tf.add(tf.matMul(x, w), bb));
    return op(() => g([a, b, bias], dy));
  } },
  // --- attention matmuls
  { name: 'batched matMul [48,64,32]@[48,32,64] (QK^T)', flops: 2 * B * H * T * T * HD, setup() { const a = r([B * H, T, HD]), b = r([B * H, HD, T]); return op(() => tf.matMul(a, b)); } },
  { name: 'batched matMul [48,64,32]@[48,64,32]^T (transposeB)', flops: 2 * B * H * T * T * HD, setup() { const a = r([B * H, T, HD]), b = r([B * H, T, HD]); return op(() => tf.matMul(a, b, false, true)); } },
  { name: 'batched matMul [48,64,64]@[48,64,32] (PV)', flops: 2 * B * H * T * T * HD, setup() { const a = r([B * H, T, T]), b = r([B * H, T, HD]); return op(() => tf.matMul(a, b)); } },
  { name: 'per-head 2-D matMul x48 [64,32]@[32,64]', flops: 2 * B * H * T * T * HD, setup() { const as = Array.from({ length: B * H }, () => r([T, HD])), bs = Array.from({ length: B * H }, () => r([HD, T])); return () => { for (let i = 0; i < as.length; i++) tf.matMul(as[i], bs[i]).dispose(); }; } },
  { name: 'fused.selfAttention fwd qkv [12,64,384] causal', flops: 4 * B * H * T * T * HD, setup() { const qkv = r([B, T, 3 * C]); return op(() => fused.selfAttention(qkv, H)); } },
  { name: 'fused.selfAttention fwd+bwd qkv [12,64,384] causal', flops: 12 * B * H * T * T * HD, setup() {
    const qkv = r([B, T, 3 * C]), dy = r([B, T, C]);
    const g = tf.grad((x: tf.Tensor) => fused.selfAttention(x, H));
    return op(() => g(qkv, dy));
  } },
  { name: 'composite selfAttention fwd qkv [12,64,384] causal', flops: 4 * B * H * T * T * HD, setup() { const qkv = r([B, T, 3 * C]); return op(() => fused.selfAttentionComposite(qkv, H)); } },
  { name: 'composite selfAttention fwd+bwd qkv [12,64,384] causal', flops: 12 * B * H * T * T * HD, setup() {
    const qkv = r([B, T, 3 * C]), dy = r([B, T, C]);
    const g = tf.grad((x: tf.Tensor) => fused.selfAttentionComposite(x, H));
    return op(() => g(qkv, dy));
  } },
  // --- layout
  { name: 'transpose [768,384]', setup() { const a = r([M, 3 * C]); return op(() => tf.transpose(a)); } },
  { name: 'transpose [12,64,4,32]->[12,4,64,32]', setup() { const a = r([B, T, H, HD]); return op(() => tf.transpose(a, [0, 2, 1, 3])); } },
  { name: 'slice [768,384] -> [768,128] at col 128', setup() { const a = r([M, 3 * C]); return op(() => tf.slice(a, [0, C], [M, C])); } },
  { name: 'split [768,384] -> 3x[768,128]', setup() { const a = r([M, 3 * C]); return op(() => tf.split(a, 3, 1)); } },
  { name: 'gather [65,128] rows by 768 ids (embedding)', setup() { const a = r([65, C]); const ids = tf.randomUniformInt([M], 0, 65); return op(() => tf.gather(a, ids)); } },
  { name: 'gather fwd+bwd [65,128] by 768 ids', setup() { const a = r([65, C]); const ids = tf.randomUniformInt([M], 0, 65); const dy = r([M, C]); const g = tf.grad((x: tf.Tensor) => tf.gather(x, ids)); return op(() => g(a, dy)); } },
  // --- element-wise
  { name: 'add [768,128]+[768,128]', setup() { const a = r([M, C]), b = r([M, C]); return op(() => tf.add(a, b)); } },
  { name: 'add [768,512]+[512] (bias)', setup() { const a = r([M, 4 * C]), b = r([4 * C]); return op(() => tf.add(a, b)); } },
  { name: 'sub [768,128]-[768,1] (broadcast column)', setup() { const a = r([M, C]), b = r([M, 1]); return op(() => tf.sub(a, b)); } },
  { name: 'mul [768,128]*[128] (broadcast row)', setup() { const a = r([M, C]), b = r([C]); return op(() => tf.mul(a, b)); } },
  { name: 'mul [768,512]*[768,512]', setup() { const a = r([M, 4 * C]), b = r([M, 4 * C]); return op(() => tf.mul(a, b)); } },
  { name: 'sum [768,512] axis 0 (bias grad)', setup() { const a = r([M, 4 * C]); return op(() => tf.sum(a, 0)); } },
  { name: 'tanh [768,512]', setup() { const a = r([M, 4 * C]); return op(() => tf.tanh(a)); } },
  { name: 'sigmoid [768,512]', setup() { const a = r([M, 4 * C]); return op(() => tf.sigmoid(a)); } },
  { name: 'gelu tanh-form composite fwd [768,512]', setup() { const a = r([M, 4 * C]); return op(() => tf.tidy(() => fused.geluTanhComposite(a))); } },
  { name: 'gelu sigmoid-form composite fwd [768,512]', setup() { const a = r([M, 4 * C]); return op(() => tf.tidy(() => fused.geluSigmoidComposite(a))); } },
  { name: 'gelu sigmoid-form composite fwd+bwd [768,512]', setup() { const a = r([M, 4 * C]), dy = r([M, 4 * C]); const g = tf.grad((x: tf.Tensor) => fused.geluSigmoidComposite(x)); return op(() => g(a, dy)); } },
  { name: 'gelu tanh-form composite fwd+bwd [768,512]', setup() { const a = r([M, 4 * C]), dy = r([M, 4 * C]); const g = tf.grad((x: tf.Tensor) => fused.geluTanhComposite(x)); return op(() => g(a, dy)); } },
  { name: 'fused.gelu fwd [768,512]', setup() { const a = r([M, 4 * C]); return op(() => fused.gelu(a)); } },
  { name: 'fused.gelu fwd+bwd [768,512]', setup() { const a = r([M, 4 * C]), dy = r([M, 4 * C]); const g = tf.grad((x: tf.Tensor) => fused.gelu(x)); return op(() => g(a, dy)); } },
  { name: 'softmax [48,64,64]', setup() { const a = r([B * H, T, T]); return op(() => tf.softmax(a)); } },
  { name: 'layerNorm composite fwd [768,128]', setup() { const a = r([M, C]), g = r([C]), b = r([C]); return op(() => tf.tidy(() => fused.layerNormComposite(a, g, b))); } },
  { name: 'layerNorm composite fwd+bwd [768,128]', setup() { const a = r([M, C]), g = r([C]), b = r([C]), dy = r([M, C]); const f = tf.grads((x: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => fused.layerNormComposite(x, gg, bb)); return op(() => f([a, g, b], dy)); } },
  { name: 'fused.layerNorm fwd [768,128]', setup() { const a = r([M, C]), g = r([C]), b = r([C]); return op(() => fused.layerNorm(a, g, b)); } },
  { name: 'fused.layerNorm fwd+bwd [768,128]', setup() { const a = r([M, C]), g = r([C]), b = r([C]), dy = r([M, C]); const f = tf.grads((x: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => fused.layerNorm(x, gg, bb)); return op(() => f([a, g, b], dy)); } },
  { name: 'crossEntropy composite fwd+bwd [768,65]', setup() { const a = r([M, 65]); const lab = tf.randomUniformInt([M], 0, 65); const f = tf.grad((x: tf.Tensor) => fused.softmaxCrossEntropyComposite(x, lab)); return op(() => f(a)); } },
  { name: 'fused.crossEntropy fwd+bwd [768,65]', setup() { const a = r([M, 65]); const lab = tf.randomUniformInt([M], 0, 65); const f = tf.grad((x: tf.Tensor) => fused.softmaxCrossEntropy(x, lab)); return op(() => f(a)); } },
];

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm');
  const threads = Number(arg('threads', '1'));
  const only = arg('only', '');
  const json = process.argv.includes('--json');
  const noPatches = process.argv.includes('--no-patches');
  let actualThreads = 1;
  if (backend === 'wasm') {
    const plan = await prepareWasmThreads(threads);
    await tf.setBackend('wasm');
    await tf.ready();
    plan.restore();
    if (plan.reason) console.error(`threads: ${plan.reason}`);
    actualThreads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
    if (noPatches) unregisterWasmKernelPatches(); else registerWasmKernelPatches();
  } else {
    await tf.setBackend(backend);
  }
  if (!json) console.log(`backend ${tf.getBackend()}, threads ${actualThreads}${noPatches ? ', package kernels only' : ''}`);
  const rows: { name: string; ms: number; gflops?: number }[] = [];
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    let fn: () => void;
    try {
      fn = c.setup();
      const before = tf.memory().numTensors;
      const ms = time(fn);
      const leaked = tf.memory().numTensors - before;
      const row = { name: c.name, ms, gflops: c.flops ? c.flops / ms / 1e6 : undefined };
      rows.push(row);
      if (!json) console.log(`${c.name.padEnd(72)} ${ms.toFixed(4).padStart(9)} ms${row.gflops ? `  ${row.gflops.toFixed(1).padStart(6)} GFLOP/s` : ''}${leaked ? `  LEAK ${leaked}` : ''}`);
    } catch (e) {
      if (!json) console.log(`${c.name.padEnd(72)} failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (json) console.log(JSON.stringify({ backend: tf.getBackend(), threads: actualThreads, rows }));
}

await main();
