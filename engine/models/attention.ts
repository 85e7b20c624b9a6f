/**
 * Multi-head self-attention. Softmax attention can hand back its probabilities (for attention maps);
 * the linear variant's math lives in linearAttention.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as fused from '../backends/fusedOps';
import { causalBias, paddingBias } from './layers';
import { eluFeatureMap, linearAttention } from './linearAttention';
import { applyRope, applyRopeAt } from './positional';

/** [B·T, H·hd] rows → [B, H, T, hd] heads (for one position, T = 1, the same memory order: a reshape, no kernel). */
export function splitHeads(x: tf.Tensor2D, B: number, T: number, H: number): tf.Tensor4D {
  const hd = x.shape[1] / H;
  if (T === 1) return tf.reshape(x, [B, H, 1, hd]);
  return tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]); // [B, H, T, hd]
}

/** [B, H, T, hd] heads → [B·T, H·hd] rows. */
export function mergeHeads(x: tf.Tensor4D): tf.Tensor2D {
  const [B, H, T, hd] = x.shape;
  if (T === 1) return tf.reshape(x, [B, H * hd]);
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [B * T, H * hd]); // [B·T, d]
}

export interface AttentionResult {
  out: tf.Tensor4D; // [B, H, T, hd]
  probs: tf.Tensor4D; // [B, H, T, T]
}

/**
 * softmax(q kᵀ / √hd + bias) v. `bias` is additive and broadcasts onto [B, H, T, T]: the causal [T, T]
 * mask, a padding mask [B, 1, 1, T], or their sum.
 */
export function softmaxAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias?: tf.Tensor): AttentionResult {
  const hd = q.shape[3];
  let scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)); // [B, H, T, T]
  if (bias) scores = tf.add(scores, bias);
  const probs = tf.softmax(scores) as tf.Tensor4D; // [B, H, T, T]
  return { out: tf.matMul(probs, v), probs }; // [B, H, T, hd]
}

export interface MultiHeadOptions {
  kind: 'softmax' | 'linear';
  causal: boolean;
  /** key padding mask [B, T] (1 = token, 0 = padding): no query attends to a padding key */
  keyMask?: tf.Tensor2D;
  /** rotate queries and keys by position (RoPE) with this frequency base */
  ropeBase?: number;
  returnProbs: boolean;
  /** the probabilities returned carry gradients (the fused kernel's do not) */
  probsGrad?: boolean;
}

/**
 * Self-attention of every head from the fused q|k|v projection rows [B·T, 3d] (heads side by side in each
 * third) to merged head outputs [B·T, d]: positions by RoPE when asked, then exact softmax attention or
 * O(T) linear attention. Softmax attention without RoPE (causal or not, with or without a padding mask)
 * runs as one fused kernel forward and one backward where the backend has them (wasm); everything else
 * runs the composites below, where the padding mask becomes an additive -1e9 key bias. For linear
 * attention the probabilities, when asked for, are its implied weights φ(q)·φ(k) normalised per query.
 */
export function selfAttention(qkv: tf.Tensor2D, B: number, T: number, H: number, o: MultiHeadOptions): { out: tf.Tensor2D; probs?: tf.Tensor4D } {
  const d = qkv.shape[1] / 3;
  if (o.kind === 'softmax' && o.ropeBase === undefined && !(o.returnProbs && o.probsGrad)) {
    const rows = tf.reshape(qkv, [B, T, 3 * d]); // [B, T, 3d]
    const fo = { causal: o.causal, ...(o.keyMask ? { keyMask: o.keyMask } : {}) };
    if (o.returnProbs) {
      const r = fused.selfAttentionWithProbs(rows, H, fo);
      return { out: tf.reshape(r.out, [B * T, d]), probs: r.probs as tf.Tensor4D };
    }
    return { out: tf.reshape(fused.selfAttention(rows, H, fo), [B * T, d]) };
  }
  const keyBias = o.keyMask ? paddingBias(o.keyMask) : undefined; // [B, 1, 1, T]
  let [q, k, v] = tf.split(qkv, 3, 1).map((t) => splitHeads(t as tf.Tensor2D, B, T, H)); // [B, H, T, hd]
  if (o.ropeBase !== undefined) {
    q = applyRope(q, o.ropeBase);
    k = applyRope(k, o.ropeBase);
  }
  if (o.kind === 'softmax') {
    let bias: tf.Tensor | undefined = o.causal ? causalBias(T) : undefined; // [T, T]
    if (keyBias) bias = bias ? tf.add(bias, keyBias) : keyBias;
    const r = softmaxAttention(q, k, v, bias);
    return { out: mergeHeads(r.out), ...(o.returnProbs ? { probs: r.probs } : {}) };
  }
  // φ(k) = elu(k) + 1 is exactly 0 where k ≈ -1e9: a masked key then adds nothing to any sum
  const kMasked = keyBias ? tf.add(k, tf.transpose(keyBias, [0, 1, 3, 2])) as tf.Tensor4D : k; // [B, H|1, T, 1] bias
  const out = mergeHeads(linearAttention(q, kMasked, v, { causal: o.causal }));
  if (!o.returnProbs) return { out };
  const w = tf.matMul(eluFeatureMap(q), eluFeatureMap(kMasked), false, true); // [B, H, T, T]
  const masked = o.causal ? tf.mul(w, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)) : w;
  return { out, probs: tf.div(masked, tf.sum(masked, -1, true)) as tf.Tensor4D };
}

/** Keys and values [B, H, t, hd] of the positions a decoder has already seen, for one layer. */
export interface PastKeyValues {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

/**
 * A padded batch whose sequences sit at different positions (left-padded so that they end together):
 * where each new token is, and which key slots hold tokens.
 */
export interface DecodeRows {
  /** the position of each new token, [B·t] */
  positions: Int32Array;
  /** 1 where a key slot (the cached ones, then the new ones: [B·n], n = cached + t) holds a token, 0 where it is padding */
  keyMask: Uint8Array;
}

/**
 * Causal self-attention of t new positions that follow `past` (keys and values of the earlier positions,
 * null at the start): queries of the new rows against all keys, each query seeing the keys up to its own
 * position. Returns the merged outputs [B·t, d] and the keys and values of all positions, for the next
 * call. Softmax attention gives the same numbers as selfAttention over the whole sequence; for linear
 * attention, its implied weights φ(q)·φ(k) normalised per query (the same function, summed differently).
 * With `rows`, padding keys are hidden too and RoPE turns each token by its own position.
 */
export function cachedCausalAttention(qkv: tf.Tensor2D, B: number, t: number, H: number, past: PastKeyValues | null, o: { kind: 'softmax' | 'linear'; ropeBase?: number; rows?: DecodeRows }): { out: tf.Tensor2D } & PastKeyValues {
  const offset = past ? past.k.shape[2] : 0;
  let [q, k, v] = tf.split(qkv, 3, 1).map((x) => splitHeads(x as tf.Tensor2D, B, t, H)); // [B, H, t, hd]
  if (o.ropeBase !== undefined) {
    q = o.rows ? applyRopeAt(q, o.rows.positions, o.ropeBase) : applyRope(q, o.ropeBase, offset);
    k = o.rows ? applyRopeAt(k, o.rows.positions, o.ropeBase) : applyRope(k, o.ropeBase, offset);
  }
  const keys = past ? tf.concat([past.k, k], 2) as tf.Tensor4D : k; // [B, H, offset + t, hd]
  const values = past ? tf.concat([past.v, v], 2) as tf.Tensor4D : v;
  if (o.kind === 'softmax' && t === 1 && !o.rows) {
    // one query: one fused kernel on wasm, not a batched matMul, which rebuilds its operator for every new key count
    return { out: mergeHeads(fused.queryAttention(q, keys, values) as tf.Tensor4D), k: keys, v: values }; // [B, H, 1, hd]
  }
  // query j sits at slot offset + j and sees keys 0 … offset + j (with rows, those that are no padding). The
  // mask is made on the host: decoding runs a few kernels per token, and each one counts.
  const n = offset + t;
  const R = o.rows ? B : 1;
  const visible = new Float32Array(R * t * n);
  for (let b = 0; b < R; b++) {
    for (let j = 0; j < t; j++) {
      const row = (b * t + j) * n;
      if (!o.rows) visible.fill(1, row, row + offset + j + 1);
      else {
        for (let s = 0; s < offset + j; s++) visible[row + s] = o.rows.keyMask[b * n + s];
        visible[row + offset + j] = 1; // a padding query sees itself, so that its (unused) output stays finite
      }
    }
  }
  const visibleShape = o.rows ? [B, 1, t, n] : [t, n];
  if (o.kind === 'softmax' && t === 1) {
    // one query of a padded batch (the fused kernel takes no mask): products and sums, not a batched matMul,
    // which on wasm rebuilds its operator for every new key count
    const hd = q.shape[3];
    let scores = tf.mul(tf.sum(tf.mul(q, keys), 3), 1 / Math.sqrt(hd)); // [B, H, n]
    scores = tf.add(scores, tf.tensor3d(visible.map((x) => (x ? 0 : -1e9)), [B, 1, n]));
    const probs = tf.expandDims(tf.softmax(scores), 3); // [B, H, n, 1]
    return { out: mergeHeads(tf.sum(tf.mul(probs, values), 2, true) as tf.Tensor4D), k: keys, v: values }; // [B, H, 1, hd]
  }
  if (o.kind === 'softmax') {
    const bias = tf.tensor(visible.map((x) => (x ? 0 : -1e9)), visibleShape);
    return { out: mergeHeads(softmaxAttention(q, keys, values, bias).out), k: keys, v: values };
  }
  const w = tf.mul(tf.matMul(eluFeatureMap(q), eluFeatureMap(keys), false, true), tf.tensor(visible, visibleShape)); // [B, H, t, offset + t]
  return { out: mergeHeads(tf.matMul(tf.div(w, tf.sum(w, -1, true)), values) as tf.Tensor4D), k: keys, v: values };
}
