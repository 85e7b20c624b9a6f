/**
 * Multi-head self-attention on [B, H, T, hd] queries, keys and values. Softmax attention can hand back
 * its probabilities (for attention maps); the linear variant's math lives in linearAttention.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { causalBias } from './layers';
import { eluFeatureMap, linearAttention } from './linearAttention';
import { applyRope } from './positional';

/** [B·T, H·hd] rows → [B, H, T, hd] heads. */
export function splitHeads(x: tf.Tensor2D, B: number, T: number, H: number): tf.Tensor4D {
  const hd = x.shape[1] / H;
  return tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]); // [B, H, T, hd]
}

/** [B, H, T, hd] heads → [B·T, H·hd] rows. */
export function mergeHeads(x: tf.Tensor4D): tf.Tensor2D {
  const [B, H, T, hd] = x.shape;
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
  /** additive key mask broadcasting onto [B, H, T, T] (padding: [B, 1, 1, T]); large negative = masked */
  keyBias?: tf.Tensor4D;
  /** rotate queries and keys by position (RoPE) with this frequency base */
  ropeBase?: number;
  returnProbs: boolean;
}

/**
 * Attention of every head, given its queries, keys and values [B, H, T, hd]: positions by RoPE when asked,
 * then exact softmax attention or O(T) linear attention. For linear attention the probabilities, when
 * asked for, are its implied weights φ(q)·φ(k) normalised per query — what each head attends to.
 */
export function multiHeadAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, o: MultiHeadOptions): { out: tf.Tensor4D; probs?: tf.Tensor4D } {
  const T = q.shape[2];
  if (o.ropeBase !== undefined) {
    q = applyRope(q, o.ropeBase);
    k = applyRope(k, o.ropeBase);
  }
  if (o.kind === 'softmax') {
    let bias: tf.Tensor | undefined = o.causal ? causalBias(T) : undefined; // [T, T]
    if (o.keyBias) bias = bias ? tf.add(bias, o.keyBias) : o.keyBias;
    const r = softmaxAttention(q, k, v, bias);
    return { out: r.out, ...(o.returnProbs ? { probs: r.probs } : {}) };
  }
  // φ(k) = elu(k) + 1 is exactly 0 where k ≈ -1e9: a masked key then adds nothing to any sum
  const kMasked = o.keyBias ? tf.add(k, tf.transpose(o.keyBias, [0, 1, 3, 2])) as tf.Tensor4D : k; // [B, H|1, T, 1] bias
  const out = linearAttention(q, kMasked, v, { causal: o.causal });
  if (!o.returnProbs) return { out };
  const w = tf.matMul(eluFeatureMap(q), eluFeatureMap(kMasked), false, true); // [B, H, T, T]
  const masked = o.causal ? tf.mul(w, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)) : w;
  return { out, probs: tf.div(masked, tf.sum(masked, -1, true)) as tf.Tensor4D };
}
