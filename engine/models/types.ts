/** What every architecture in the registry offers to training, inspection and export. */
import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedModelConfig } from '../../common/modelConfig';
import type { ParamStore } from './params';

/** Token ids are int32; label tensors use -100 for "no target here" (PyTorch's ignore_index). */
export interface Batch {
  inputIds: tf.Tensor2D; // [B, T]
  /** causal LM: next-token targets [B, T]; masked LM: the original token where masked, else -100 */
  labels?: tf.Tensor2D;
  tokenTypeIds?: tf.Tensor2D; // [B, T], bert
  attentionMask?: tf.Tensor2D; // [B, T], 1 = token, 0 = padding
  nextSentenceLabels?: tf.Tensor1D; // [B], bert: 0 = B follows A, 1 = random
  classLabels?: tf.Tensor1D; // [B], sequence classification
}

export type Objective = 'causal-lm' | 'mlm' | 'mlm-nsp' | 'classification';

export interface ForwardOptions {
  training?: boolean;
  /** keep every layer's attention probabilities [B, H, T, T] */
  returnAttentions?: boolean;
  /** the attentions returned carry gradients (a loss on the maps, as distillation's): the composite kernels, slower on wasm */
  attentionGrads?: boolean;
  /** keep every block's output [B, T, d] (hidden-state distillation) */
  returnHiddenStates?: boolean;
  /** seeds this forward pass's dropout masks, so that a training step repeats exactly; default: unseeded */
  dropoutSeed?: number;
}

export interface ForwardResult {
  hidden: tf.Tensor3D; // [B, T, d], after the final norm (gpt) / last layer (bert)
  attentions?: tf.Tensor4D[]; // per layer, [B, H, T, T]
  hiddenStates?: tf.Tensor3D[]; // per layer, the block's output [B, T, d] (gpt: before the final norm)
  /** mixture-of-experts load-balancing loss summed over layers (already unweighted), when the model has MoE */
  auxLoss?: tf.Scalar;
}

export interface LossResult {
  loss: tf.Scalar;
  /** named parts of the loss, e.g. { mlm, nsp, aux } */
  parts: Record<string, tf.Scalar>;
}

export interface TransformerModel {
  readonly config: ResolvedModelConfig;
  readonly params: ParamStore;
  /** shorthand for params.variables */
  readonly variables: Map<string, tf.Variable>;
  forward(batch: Batch, opts?: ForwardOptions): ForwardResult;
  /** The objective's loss; default: causal-lm for gpt, mlm(-nsp when nextSentenceLabels are given) for bert. */
  loss(batch: Batch, objective?: Objective, opts?: ForwardOptions): LossResult;
  dispose(): void;
}
