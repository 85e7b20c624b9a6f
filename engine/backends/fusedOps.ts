/**
 * Fused Transformer ops: one call each on every backend. On 'wasm' each is one SIMD kernel
 * (fusedKernels.as, compiled by buildFusedKernels.ts) forward and one backward, working in place on
 * the tfjs heap; on every other backend (and for shapes the kernels do not take) the same function
 * runs the plain tfjs composite of the same name + 'Composite', whose gradient tfjs derives.
 *
 *   layerNorm(x, gamma, beta, eps)          x [..., C]
 *   gelu(x)                                 tanh approximation (GPT-2 gelu_new)
 *   geluErf(x)                              exact GELU, 0.5 x (1 + erf(x / sqrt 2)) (BERT)
 *   softmaxCrossEntropy(logits, labels)     logits [N, V], labels int32 [N] -> mean loss (scalar)
 *   selfAttention(qkv, nHead, {causal, keyMask})
 *                                           qkv [B, T, 3C] (q | k | v, heads contiguous) -> [B, T, C];
 *                                           keyMask [B, T] (1 token, 0 padding) masks keys
 *   selfAttentionWithProbs(...)             also the probabilities [B, H, T, T] (no gradient)
 *   queryAttention(q, keys, values)         one query per head against cached keys and values (a decoding
 *                                           step): q [B, H, 1, D], keys/values [B, H, n, D] -> [B, H, 1, D]
 *   adamwUpdate(p, g, m, v, hyper)          one AdamW step of one parameter -> new {param, m, v}
 *   sumOfSquares(tensors)                   sum of x^2 over a list (global gradient norm), a scalar
 *
 * Model code calls these and gets the same numbers everywhere (see fusedOps.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmKernel } from './wasmKernels';
import { kernelsFor, offset, runSplit, type WasmBackendLike } from './fusedKernels';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** An element-wise kernel over n floats, its two halves (split at a multiple of 4) on two threads. */
function geluSplit(be: WasmBackendLike, fn: 'gelu_fwd' | 'gelu_bwd' | 'gelu_erf_fwd' | 'gelu_erf_bwd', ptrs: number[], n: number): void {
  if (n < 8192) { (kernelsFor(be) as unknown as Record<string, (...a: number[]) => void>)[fn](...ptrs, n); return; }
  const n0 = (n >> 1) & ~3;
  runSplit(be, fn, [...ptrs, n0], [...ptrs.map((p) => p + 4 * n0), n - n0]);
}

// ------------------------------------------------------------------------------------------------
// kernels

const K = {
  layerNorm: 'WbLayerNorm',
  layerNormGrad: 'WbLayerNormGrad',
  gelu: 'WbGelu',
  geluGrad: 'WbGeluGrad',
  geluErf: 'WbGeluErf',
  geluErfGrad: 'WbGeluErfGrad',
  ce: 'WbSoftmaxCrossEntropy',
  ceGrad: 'WbSoftmaxCrossEntropyGrad',
  attn: 'WbSelfAttention',
  attnGrad: 'WbSelfAttentionGrad',
  attnQuery: 'WbQueryAttention',
  adamw: 'WbAdamW',
  sumsq: 'WbSumOfSquares',
} as const;

type Args = Parameters<tf.KernelFunc>[0];
const inp = (a: Args, n: string) => a.inputs[n] as tf.TensorInfo;

/**
 * The attention kernels' key mask: an f32 [B, T] copy of the optional input `mask` (any dtype) with
 * 1 where it is nonzero and 0 where it is 0, as a scratch tensor the caller disposes; null without one.
 */
function keepVector(be: WasmBackendLike, a: Args): tf.TensorInfo | null {
  const mask = a.inputs.mask as tf.TensorInfo | undefined;
  if (!mask) return null;
  const n = size(mask.shape);
  const keep = be.makeOutput([n], 'float32');
  const src = be.typedArrayFromHeap(mask), dst = be.typedArrayFromHeap(keep);
  for (let i = 0; i < n; i++) dst[i] = src[i] !== 0 ? 1 : 0;
  return keep;
}

function registerFusedWasmKernels(): void {
  registerWasmKernel(K.layerNorm, (a: Args) => {
    const be = a.backend as WasmBackendLike;
    const x = inp(a, 'x'), g = inp(a, 'gamma'), b = inp(a, 'beta');
    const C = x.shape[x.shape.length - 1];
    const rows = size(x.shape) / C;
    const y = be.makeOutput(x.shape, 'float32');
    const mean = be.makeOutput([rows], 'float32');
    const rstd = be.makeOutput([rows], 'float32');
    const eps = (a.attrs as { eps: number }).eps;
    const r0 = rows >> 1;
    const [ox, oy, om, or] = [offset(be, x), offset(be, y), offset(be, mean), offset(be, rstd)];
    const og = offset(be, g), ob = offset(be, b);
    if (rows * C >= 262144) runSplit(be, 'ln_fwd', [ox, og, ob, oy, om, or, r0, C, eps], [ox + 4 * r0 * C, og, ob, oy + 4 * r0 * C, om + 4 * r0, or + 4 * r0, rows - r0, C, eps]);
    else kernelsFor(be).ln_fwd(ox, og, ob, oy, om, or, rows, C, eps);
    return [y, mean, rstd];
  });
  registerWasmKernel(K.layerNormGrad, (a: Args) => {
    const be = a.backend as WasmBackendLike;
    const dy = inp(a, 'dy'), x = inp(a, 'x'), g = inp(a, 'gamma'), mean = inp(a, 'mean'), rstd = inp(a, 'rstd');
    const C = x.shape[x.shape.length - 1];
    const rows = size(x.shape) / C;
    const dx = be.makeOutput(x.shape, 'float32');
    const dg = be.makeOutput([C], 'float32');
    const db = be.makeOutput([C], 'float32');
    kernelsFor(be).ln_bwd(offset(be, dy), offset(be, x), offset(be, g), offset(be, mean), offset(be, rstd), offset(be, dx), offset(be, dg), offset(be, db), rows, C);
    return [dx, dg, db];
  });
  // both GELUs: an elementwise forward y = f(x) and backward dx = f'(x)·dy, split across the helper thread
  const elementwise = [[K.gelu, 'gelu_fwd', K.geluGrad, 'gelu_bwd'], [K.geluErf, 'gelu_erf_fwd', K.geluErfGrad, 'gelu_erf_bwd']] as const;
  for (const [fwdKernel, fwd, bwdKernel, bwd] of elementwise) {
    registerWasmKernel(fwdKernel, (a: Args) => {
      const be = a.backend as WasmBackendLike;
      const x = inp(a, 'x');
      const y = be.makeOutput(x.shape, 'float32');
      geluSplit(be, fwd, [offset(be, x), offset(be, y)], size(x.shape));
      return y;
    });
    registerWasmKernel(bwdKernel, (a: Args) => {
      const be = a.backend as WasmBackendLike;
      const x = inp(a, 'x'), dy = inp(a, 'dy');
      const dx = be.makeOutput(x.shape, 'float32');
      geluSplit(be, bwd, [offset(be, x), offset(be, dy), offset(be, dx)], size(x.shape));
      return dx;
    });
  }
  registerWasmKernel(K.ce, (a: Args) => {
    const be = a.backend as WasmBackendLike;
    const logits = inp(a, 'logits'), labels = inp(a, 'labels');
    const [N, V] = logits.shape;
    const lse = be.makeOutput([N], 'float32');
    const loss = be.makeOutput([], 'float32');
    const total = kernelsFor(be).ce_fwd(offset(be, logits), offset(be, labels), offset(be, lse), N, V);
    const lab = be.typedArrayFromHeap(labels);
    let count = 0;
    for (let i = 0; i < N; i++) if (lab[i] >= 0 && lab[i] < V) count++;
    be.typedArrayFromHeap(loss)[0] = count ? total / count : 0;
    return [loss, lse];
  });
  registerWasmKernel(K.ceGrad, (a: Args) => {
    const be = a.backend as WasmBackendLike;
    const logits = inp(a, 'logits'), labels = inp(a, 'labels'), lse = inp(a, 'lse'), dy = inp(a, 'dy');
    const [N, V] = logits.shape;
    const lab = be.typedArrayFromHeap(labels);
    let count = 0;
    for (let i = 0; i < N; i++) if (lab[i] >= 0 && lab[i] < V) count++;
    const g = be.typedArrayFromHeap(dy)[0];
    const dl = be.makeOutput(logits.shape, 'float32');
    kernelsFor(be).ce_bwd(offset(be, logits), offset(be, labels), offset(be, lse), offset(be, dl), N, V, count ? g / count : 0);
    return dl;
  });
  registerWasmKernel(K.attn, (a: Args) => {
    const be = a.backend as WasmBackendLike;
    const qkv = inp(a, 'qkv');
    const { nHead, causal, scale } = a.attrs as { nHead: number; causal: boolean; scale: number };
    const [B, T, C3] = qkv.shape;
    const C = C3 / 3, D = C / nHead;
    const out = be.makeOutput([B, T, C], 'float32');
    const P = be.makeOutput([B, nHead, T, T], 'float32');
    const keep = keepVector(be, a);
    const args = [offset(be, qkv), offset(be, out), offset(be, P), keep ? offset(be, keep) : 0, B, T, nHead, D, scale, causal ? 1 : 0];
    const BH = B * nHead, half = BH >> 1;
    try {
      runSplit(be, 'attn_fwd', [...args, 0, half], [...args, half, BH]);
    } finally {
      if (keep) be.disposeData(keep.dataId, true);
    }
    return [out, P];
  });
  registerWasmKernel(K.attnGrad, (a: Args) => {
    const be = a.backend as WasmBackendLike;
    const qkv = inp(a, 'qkv'), P = inp(a, 'probs'), dout = inp(a, 'dy');
    const { nHead, causal, scale } = a.attrs as { nHead: number; causal: boolean; scale: number };
    const [B, T, C3] = qkv.shape;
    const C = C3 / 3, D = C / nHead;
    const dqkv = be.makeOutput(qkv.shape, 'float32');
    const scratch = be.makeOutput([2 * T * T], 'float32'); // one head's dS per thread
    const keep = keepVector(be, a);
    const [oq, op, od, odq, os] = [offset(be, qkv), offset(be, P), offset(be, dout), offset(be, dqkv), offset(be, scratch)];
    const BH = B * nHead, half = BH >> 1;
    const tail = [keep ? offset(be, keep) : 0, B, T, nHead, D, scale, causal ? 1 : 0];
    try {
      runSplit(be, 'attn_bwd', [oq, op, od, odq, os, ...tail, 0, half], [oq, op, od, odq, os + 4 * T * T, ...tail, half, BH]);
    } finally {
      be.disposeData(scratch.dataId, true);
      if (keep) be.disposeData(keep.dataId, true);
    }
    return dqkv;
  });
  registerWasmKernel(K.attnQuery, (a: Args) => {
    const be = a.backend as WasmBackendLike;
    const q = inp(a, 'q'), k = inp(a, 'keys'), v = inp(a, 'values');
    const [B, H, n, D] = k.shape;
    const out = be.makeOutput(q.shape, 'float32');
    kernelsFor(be).attn_query(offset(be, q), offset(be, k), offset(be, v), offset(be, out), B * H, n, D, (a.attrs as { scale: number }).scale);
    return out;
  });
  registerWasmKernel(K.adamw, (a: Args) => {
    const be = a.backend as WasmBackendLike;
    const p = inp(a, 'param'), g = inp(a, 'grad'), m = inp(a, 'm'), v = inp(a, 'v');
    const h = a.attrs as unknown as AdamWKernelAttrs;
    const po = be.makeOutput(p.shape, 'float32');
    const mo = be.makeOutput(p.shape, 'float32');
    const vo = be.makeOutput(p.shape, 'float32');
    kernelsFor(be).adamw(offset(be, p), offset(be, g), offset(be, m), offset(be, v), offset(be, po), offset(be, mo), offset(be, vo), size(p.shape),
      h.beta1, h.beta2, h.eps, h.stepSize, h.bc2Sqrt, h.decayFactor, h.gradScale);
    return [po, mo, vo];
  });
  registerWasmKernel(K.sumsq, (a: Args) => {
    const be = a.backend as WasmBackendLike;
    const k = kernelsFor(be);
    let total = 0;
    for (const t of Object.values(a.inputs) as tf.TensorInfo[]) total += k.sumsq(offset(be, t), size(t.shape));
    const out = be.makeOutput([], 'float32');
    be.typedArrayFromHeap(out)[0] = total;
    return out;
  });
}

interface AdamWKernelAttrs { beta1: number; beta2: number; eps: number; stepSize: number; bc2Sqrt: number; decayFactor: number; gradScale: number }

registerFusedWasmKernels();

// ------------------------------------------------------------------------------------------------
// dispatch

let fusedEnabled = true;
/** Turns the wasm kernels off (everything runs the composites): for measurements and tests. */
export function setFusedKernelsEnabled(on: boolean): void { fusedEnabled = on; }

function onWasm(...ts: tf.Tensor[]): boolean {
  return fusedEnabled && tf.getBackend() === 'wasm' && ts.every((t) => t.dtype === 'float32');
}

type Fwd = (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };
/** tf.customGrad over n tensor inputs, with the inputs as an array */
function custom(n: number, fwd: Fwd): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) =>
    fwd(args.slice(0, n) as tf.Tensor[], args[n] as tf.GradSaveFunc)) as unknown as Parameters<typeof tf.customGrad>[0]) as (...inputs: tf.Tensor[]) => tf.Tensor;
}

const run = (name: string, inputs: tf.NamedTensorMap, attrs: object = {}) =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap);

// ------------------------------------------------------------------------------------------------
// layer norm

export function layerNormComposite(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(xhat, gamma), beta);
  });
}

/** Layer normalisation over the last axis of x, with scale gamma [C] and shift beta [C]. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): tf.Tensor {
  if (!onWasm(x, gamma, beta)) return layerNormComposite(x, gamma, beta, eps);
  const f = custom(3, ([xx, g, b], save) => {
    const [y, mean, rstd] = run(K.layerNorm, { x: xx, gamma: g, beta: b }, { eps }) as tf.Tensor[];
    save([xx, g, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sr] = saved;
        return run(K.layerNormGrad, { dy, x: sx, gamma: sg, mean: sm, rstd: sr }) as tf.Tensor[];
      },
    };
  });
  return f(x, gamma, beta);
}

// ------------------------------------------------------------------------------------------------
// GELU

const GELU_K = Math.sqrt(2 / Math.PI);

/** GPT-2's gelu_new written with tanh, as the formula reads. */
export function geluTanhComposite(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_K);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

/** The same function as x * sigmoid(2k(x + 0.044715 x^3)) (exact identity; faster on wasm). */
export function geluSigmoidComposite(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const x3 = tf.mul(tf.mul(x, x), x);
    const u = tf.mul(tf.add(x, tf.mul(x3, 0.044715)), 2 * GELU_K);
    return tf.mul(x, tf.sigmoid(u));
  });
}

/** GELU, tanh approximation (Hugging Face gelu_new / GPT-2). */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (!onWasm(x)) return geluSigmoidComposite(x);
  const f = custom(1, ([xx], save) => {
    save([xx]);
    return {
      value: run(K.gelu, { x: xx }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => run(K.geluGrad, { x: saved[0], dy }) as tf.Tensor,
    };
  });
  return f(x);
}

/** BERT's exact GELU, 0.5·x·(1 + erf(x/√2)), as tfjs ops (tf.erf: Abramowitz-Stegun 7.1.26 on cpu). */
export function geluErfComposite(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

/**
 * Exact GELU (erf form; BERT's and PyTorch's default), x·Φ(x). On wasm one kernel each way, with erf to
 * float32 precision (~1 ulp; the composite's tf.erf is good to 1.5e-7 absolute only) and the left tail
 * computed as erfc, without the cancellation of 1 + erf.
 */
export function geluErf(x: tf.Tensor): tf.Tensor {
  if (!onWasm(x)) return geluErfComposite(x);
  const f = custom(1, ([xx], save) => {
    save([xx]);
    return {
      value: run(K.geluErf, { x: xx }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => run(K.geluErfGrad, { x: saved[0], dy }) as tf.Tensor,
    };
  });
  return f(x);
}

// ------------------------------------------------------------------------------------------------
// softmax cross-entropy

export function softmaxCrossEntropyComposite(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const V = logits.shape[logits.shape.length - 1];
    const logp = tf.logSoftmax(logits);
    const valid = tf.cast(tf.logicalAnd(tf.greaterEqual(labels, 0), tf.less(labels, V)), 'float32');
    const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.cast(labels, 'int32'), V)), -1);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, valid))), tf.maximum(tf.sum(valid), 1));
  });
}

/** Mean over rows of -log softmax(logits)[label]; labels outside [0, V) are ignored. */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  if (!onWasm(logits) || logits.rank !== 2 || labels.dtype !== 'int32') return softmaxCrossEntropyComposite(logits, labels);
  const f = custom(1, ([lg], save) => {
    const [loss, lse] = run(K.ce, { logits: lg, labels }) as tf.Tensor[];
    save([lg, labels, lse]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => run(K.ceGrad, { logits: saved[0], labels: saved[1], lse: saved[2], dy }) as tf.Tensor,
    };
  });
  return f(logits);
}

// ------------------------------------------------------------------------------------------------
// self-attention from the fused qkv projection

export interface AttentionOptions {
  /** mask out keys after the query (GPT); default true */
  causal?: boolean;
  /** default 1/sqrt(head size) */
  scale?: number;
  /**
   * Key padding mask [B, T] (int32, float32 or bool): nonzero = a token, 0 = padding. Masked keys get
   * probability 0 for every query, as adding -1e9 to their scores does. (A query that sees no key at
   * all, e.g. padding before the first token with `causal`, gets what the -1e9 composite gives when its
   * biased scores tie: uniform weights over the keys with the fewest masks against them; never NaN.)
   */
  keyMask?: tf.Tensor;
}

function splitHeads(t: tf.Tensor, B: number, T: number, H: number, D: number): tf.Tensor {
  return tf.transpose(tf.reshape(t, [B, T, H, D]), [0, 2, 1, 3]);
}

function checkKeyMask(qkv: tf.Tensor, mask: tf.Tensor | undefined): void {
  if (!mask) return;
  const [B, T] = qkv.shape;
  if (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== T) {
    throw new Error(`selfAttention: keyMask must be [B, T] = [${B}, ${T}]; got [${mask.shape}]`);
  }
}

export function selfAttentionProbsComposite(qkv: tf.Tensor, nHead: number, opts: AttentionOptions = {}): { out: tf.Tensor; probs: tf.Tensor } {
  checkKeyMask(qkv, opts.keyMask);
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3, D = C / nHead;
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  return tf.tidy(() => {
    const [q, k, v] = tf.split(qkv, 3, 2).map((t) => splitHeads(t, B, T, nHead, D));
    let scores = tf.mul(tf.matMul(q, k, false, true), scale);
    if (opts.causal ?? true) {
      const mask = tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0));
      scores = tf.add(scores, tf.mul(mask, -1e9));
    }
    if (opts.keyMask) {
      const padded = tf.cast(tf.equal(opts.keyMask, 0), 'float32'); // [B, T], 1 = padding
      scores = tf.add(scores, tf.reshape(tf.mul(padded, -1e9), [B, 1, 1, T]));
    }
    const probs = tf.softmax(scores);
    const o = tf.matMul(probs, v);
    const out = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B, T, C]);
    return { out, probs };
  });
}

export function selfAttentionComposite(qkv: tf.Tensor, nHead: number, opts: AttentionOptions = {}): tf.Tensor {
  return tf.tidy(() => selfAttentionProbsComposite(qkv, nHead, opts).out);
}

function attnFusable(qkv: tf.Tensor, nHead: number): boolean {
  return onWasm(qkv) && qkv.rank === 3 && (qkv.shape[2] as number) % (3 * nHead) === 0;
}

function attnAttrs(qkv: tf.Tensor, nHead: number, opts: AttentionOptions) {
  const D = (qkv.shape as number[])[2] / 3 / nHead;
  return { nHead, causal: opts.causal ?? true, scale: opts.scale ?? 1 / Math.sqrt(D) };
}

/**
 * Multi-head scaled dot-product self-attention. qkv [B, T, 3C] is the output of the fused q|k|v
 * projection (each of q, k, v with its heads side by side, head h at columns h*D..h*D+D-1);
 * the result [B, T, C] has the heads merged the same way, ready for the output projection.
 * `keyMask` [B, T] masks padding keys (no gradient flows to it).
 */
export function selfAttention(qkv: tf.Tensor, nHead: number, opts: AttentionOptions = {}): tf.Tensor {
  if (!attnFusable(qkv, nHead)) return selfAttentionComposite(qkv, nHead, opts);
  checkKeyMask(qkv, opts.keyMask);
  const attrs = attnAttrs(qkv, nHead, opts);
  const mask = opts.keyMask;
  const f = custom(1, ([x], save) => {
    const [out, probs] = run(K.attn, mask ? { qkv: x, mask } : { qkv: x }, attrs) as tf.Tensor[];
    save(mask ? [x, probs, mask] : [x, probs]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const inputs: tf.NamedTensorMap = { qkv: saved[0], probs: saved[1], dy };
        if (saved[2]) inputs.mask = saved[2];
        return run(K.attnGrad, inputs, attrs) as tf.Tensor;
      },
    };
  });
  return f(qkv);
}

/** selfAttention plus the attention probabilities [B, H, T, T] (for inspection; no gradient). */
export function selfAttentionWithProbs(qkv: tf.Tensor, nHead: number, opts: AttentionOptions = {}): { out: tf.Tensor; probs: tf.Tensor } {
  if (!attnFusable(qkv, nHead)) return selfAttentionProbsComposite(qkv, nHead, opts);
  checkKeyMask(qkv, opts.keyMask);
  const mask = opts.keyMask;
  const [out, probs] = run(K.attn, mask ? { qkv, mask } : { qkv }, attnAttrs(qkv, nHead, opts)) as tf.Tensor[];
  return { out, probs };
}

/** One query per head as products and sums (no batched matMul, whose operator wasm rebuilds for every new key count). */
export function queryAttentionComposite(q: tf.Tensor, keys: tf.Tensor, values: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const scores = tf.mul(tf.sum(tf.mul(q, keys), 3), 1 / Math.sqrt(q.shape[3] as number)); // [B, H, n]
    const probs = tf.expandDims(tf.softmax(scores), 3); // [B, H, n, 1]
    return tf.sum(tf.mul(probs, values), 2, true); // [B, H, 1, D]
  });
}

/**
 * softmax(q·kᵀ/√D) v for a single query per head, q [B, H, 1, D], against all n cached keys and values
 * [B, H, n, D] (each new token of a decoder sees every earlier one): [B, H, 1, D]. No gradient (decoding
 * only). On wasm one single-threaded kernel: the composite's broadcasting products and softmax ran on
 * XNNPACK's thread pool, which cost more than the arithmetic.
 */
export function queryAttention(q: tf.Tensor, keys: tf.Tensor, values: tf.Tensor): tf.Tensor {
  const [B, H, one, D] = q.shape as number[];
  if (q.rank !== 4 || one !== 1 || keys.rank !== 4 || keys.shape.join() !== values.shape.join()
    || keys.shape[0] !== B || keys.shape[1] !== H || keys.shape[3] !== D) {
    throw new Error(`queryAttention: q must be [B, H, 1, D] and keys, values [B, H, n, D]; got [${q.shape}], [${keys.shape}], [${values.shape}]`);
  }
  if (!onWasm(q, keys, values)) return queryAttentionComposite(q, keys, values);
  return run(K.attnQuery, { q, keys, values }, { scale: 1 / Math.sqrt(D) }) as tf.Tensor;
}

// ------------------------------------------------------------------------------------------------
// optimiser

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** decoupled weight decay for this parameter (0 for none) */
  weightDecay: number;
  /** 1-based step count t (for the bias corrections) */
  step: number;
  /** multiplies the gradient first (global-norm clipping's coefficient); default 1 */
  gradScale?: number;
}

/** The arithmetic of engine/training/adamw.ts, as tfjs ops. */
export function adamwUpdateComposite(param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, h: AdamWHyper): { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  return tf.tidy(() => {
    const g = h.gradScale !== undefined && h.gradScale !== 1 ? tf.mul(grad, h.gradScale) : grad;
    const stepSize = h.lr / (1 - h.beta1 ** h.step);
    const bc2Sqrt = Math.sqrt(1 - h.beta2 ** h.step);
    const m2 = tf.add(tf.mul(m, h.beta1), tf.mul(g, 1 - h.beta1));
    const v2 = tf.add(tf.mul(v, h.beta2), tf.mul(tf.square(g), 1 - h.beta2));
    const denom = tf.add(tf.div(tf.sqrt(v2), bc2Sqrt), h.eps);
    const theta = h.weightDecay !== 0 ? tf.mul(param, 1 - h.lr * h.weightDecay) : param;
    return { param: tf.sub(theta, tf.mul(tf.div(m2, denom), stepSize)), m: m2, v: v2 };
  });
}

/**
 * One AdamW step of one parameter: the new parameter and moments (assign them to the variables).
 * On wasm one kernel call replaces the ~13 element-wise ops of the composite.
 */
export function adamwUpdate(param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, h: AdamWHyper): { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  if (!onWasm(param, grad, m, v)) return adamwUpdateComposite(param, grad, m, v, h);
  const attrs: AdamWKernelAttrs = {
    beta1: h.beta1, beta2: h.beta2, eps: h.eps,
    stepSize: h.lr / (1 - h.beta1 ** h.step),
    bc2Sqrt: Math.sqrt(1 - h.beta2 ** h.step),
    decayFactor: 1 - h.lr * h.weightDecay,
    gradScale: h.gradScale ?? 1,
  };
  const [p2, m2, v2] = run(K.adamw, { param, grad, m, v }, attrs) as tf.Tensor[];
  return { param: p2, m: m2, v: v2 };
}

/** Sum of squares of every element of every tensor (a float32 scalar; accumulated in float64 on wasm). */
export function sumOfSquares(tensors: tf.Tensor[]): tf.Scalar {
  if (tensors.length === 0) return tf.scalar(0);
  if (!onWasm(...tensors)) return tf.tidy(() => tf.addN(tensors.map((t) => tf.sum(tf.square(t)))) as tf.Scalar);
  return run(K.sumsq, Object.fromEntries(tensors.map((t, i) => [`t${i}`, t]))) as tf.Scalar;
}
