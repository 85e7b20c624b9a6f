/**
 * Multi-head self-attention on [B, H, T, hd] queries, keys and values. Softmax attention can hand back
 * its probabilities (for attention maps); the linear variant lives in linearAttention.ts.
 */
import * as tf from '@tensorflow/tfjs-core';

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
