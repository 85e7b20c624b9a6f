/**
 * Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_: the L2 norm of all gradients taken
 * together; when it exceeds maxNorm every gradient is scaled by maxNorm / (norm + 1e-6).
 * Reference: ../shared/reference/gen_golden.py `optim`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sumOfSquares } from '../backends/fusedOps';

/** √(Σ over every gradient of Σ g²), as a scalar tensor. */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    if (grads.length === 0) return tf.scalar(0);
    return tf.sqrt(sumOfSquares(grads)) as tf.Scalar; // one fused kernel on wasm, accumulated in float64 there
  });
}

/**
 * Clips in place, like torch's trailing underscore: the entries of `grads` (a record or an array) are
 * replaced by their scaled copies and the old tensors disposed, so callers keep one set of gradients.
 * Returns the total norm before clipping (a number: one read-back per step, which a training loop logs anyway).
 */
export function clipGradNorm<G extends Record<string, tf.Tensor> | tf.Tensor[]>(grads: G, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm ${maxNorm} must be > 0`);
  const keys = Object.keys(grads) as (keyof G & string)[];
  const tensors = keys.map((k) => grads[k] as tf.Tensor);
  const normT = globalNorm(tensors);
  const total = normT.dataSync()[0];
  normT.dispose();
  // torch multiplies by min(1, coef) always; skipping the ×1 saves a copy of every gradient and changes nothing
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const k of keys) {
      const g = grads[k] as tf.Tensor;
      (grads as Record<string, tf.Tensor>)[k] = tf.mul(g, coef);
      g.dispose();
    }
  }
  return total;
}
