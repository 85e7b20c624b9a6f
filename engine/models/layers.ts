/**
 * The building blocks both architectures share, written so that every backend runs them and wasm runs
 * them fast: matrices multiply as plain 2-D, untransposed `matMul`s (the only form XNNPACK accelerates),
 * activations flow as [N, d] rows with N = B·T, and the few fused pieces carry their own gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as fused from '../backends/fusedOps';
import type { ResolvedModelConfig } from '../../common/modelConfig';
import type { ParamStore } from './params';
import type { LossResult } from './types';
import { sinusoidalTable } from './positional';

/** x @ w + b for a weight stored [in, out] (GPT-2 Conv1D). */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  const y = tf.matMul(x, w); // [N, out]
  return (b ? tf.add(y, b) : y) as tf.Tensor2D;
}

/** x @ wᵀ + b for a weight stored [out, in] (nn.Linear); the explicit transpose keeps the matMul on the fast path. */
export function linearT(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  return linear(x, tf.transpose(w) as tf.Tensor2D, b);
}

/** LayerNorm over the last axis of [N, d], biased variance as in PyTorch (one fused kernel each way on wasm). */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  return fused.layerNorm(x, gamma, beta, eps) as tf.Tensor2D;
}

/** GPT-2's gelu_new, 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) (one fused kernel each way on wasm). */
export function geluNew(x: tf.Tensor): tf.Tensor {
  return fused.gelu(x);
}

/** BERT's exact gelu, 0.5·x·(1 + erf(x/√2)) (one fused kernel each way on wasm). */
export function geluErf(x: tf.Tensor): tf.Tensor {
  return fused.geluErf(x);
}

export function activation(kind: 'gelu_new' | 'gelu', x: tf.Tensor): tf.Tensor {
  return kind === 'gelu_new' ? geluNew(x) : geluErf(x);
}

/** Rows of `table` [V, d] for `ids` [N]; the gradient is a scatter-add (UnsortedSegmentSum, patched in on wasm). */
export function embedding(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  return tf.gather(table, ids); // [N, d]
}

/** Causal mask as an additive bias [T, T]: 0 on and below the diagonal, a large negative number above. */
export function causalBias(T: number): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9) as tf.Tensor2D);
}

/**
 * Mean cross-entropy of `logits` [N, V] against int32 `labels` [N]; negative labels (BERT's -100) do not
 * count. One fused kernel each way on wasm, whose backward is softmax(logits) - onehot.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return fused.softmaxCrossEntropy(logits, labels) as tf.Scalar;
}

/** Inverted dropout while training; identity otherwise. */
export function dropout(x: tf.Tensor, rate: number, training: boolean, seed?: number): tf.Tensor {
  return training && rate > 0 ? tf.dropout(x, rate, undefined, seed) : x;
}

/**
 * Adds absolute positions to token embeddings x [B·T, d]: rows 0…T-1 of the learned table (GPT-2's
 * `wpe`, BERT's `position_embeddings`) or of the sinusoidal table, from row `offset` on when decoding
 * after cached positions. RoPE acts inside attention instead.
 */
export function addPositions(x: tf.Tensor2D, B: number, T: number, c: ResolvedModelConfig, params: ParamStore, offset = 0): tf.Tensor2D {
  const d = c.dModel;
  let table: tf.Tensor2D;
  if (c.positional === 'learned') table = tf.slice(params.get(c.arch === 'gpt' ? 'wpe.weight' : 'bert.embeddings.position_embeddings.weight') as tf.Tensor2D, [offset, 0], [T, d]);
  else if (c.positional === 'sinusoidal') table = offset ? tf.slice(sinusoidalTable(offset + T, d), [offset, 0], [T, d]) : sinusoidalTable(T, d);
  else return x;
  return tf.reshape(tf.add(tf.reshape(x, [B, T, d]), table), [B * T, d]); // [N, d]
}

/**
 * addPositions for rows at arbitrary positions (a padded batch whose sequences sit at different
 * positions): `positions` [N] gives each row's own, and its table row is added.
 */
export function addPositionsAt(x: tf.Tensor2D, positions: ArrayLike<number>, c: ResolvedModelConfig, params: ParamStore): tf.Tensor2D {
  if (c.positional === 'rope') return x;
  const ids = tf.tensor1d(Int32Array.from(positions), 'int32');
  const table = c.positional === 'learned'
    ? params.get(c.arch === 'gpt' ? 'wpe.weight' : 'bert.embeddings.position_embeddings.weight') as tf.Tensor2D
    : sinusoidalTable(Math.max(...Array.from(positions)) + 1, c.dModel);
  return tf.add(x, tf.gather(table, ids)); // [N, d]
}

/** Padding mask [B, T] (1 = token, 0 = padding) → additive key bias [B, 1, 1, T] (for the composite attention paths: RoPE, linear). */
export function paddingBias(mask: tf.Tensor2D): tf.Tensor4D {
  const [B, T] = mask.shape;
  return tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, 'float32')), -1e9), [B, 1, 1, T]);
}

/** Adds the mixture-of-experts load-balancing loss, weighted by moe.auxLossWeight, when the model has one. */
export function withAuxLoss(task: LossResult, auxLoss: tf.Scalar | undefined, c: ResolvedModelConfig): LossResult {
  if (!auxLoss || !c.moe) return task;
  return { loss: tf.add(task.loss, tf.mul(auxLoss, c.moe.auxLossWeight)) as tf.Scalar, parts: { ...task.parts, aux: auxLoss } };
}
