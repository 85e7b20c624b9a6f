/**
 * One optimisation step, in two halves so that the trainer can look at the loss before any weight moves:
 * gradients of every parameter averaged over the micro-batches (gradient accumulation), then global-norm
 * clipping and AdamW. Everything allocated is released (a test holds tf.memory().numTensors flat).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, Objective, TransformerModel } from '../models/types';
import type { AdamW } from './adamw';
import { clipGradNorm, globalNorm } from './clip';

export interface Gradients {
  /** mean loss over the micro-batches */
  loss: number;
  /** by parameter name, for the parameters the loss depends on; the caller disposes them (applyUpdate does) */
  grads: Record<string, tf.Tensor>;
}

/**
 * Mean loss and mean gradients over `batches` (one micro-batch: plain backprop). With a dropoutSeed the
 * dropout masks are drawn from it (micro-batch i from dropoutSeed + i), so the step repeats exactly.
 * With `trainable`, only those parameters' gradients are computed.
 */
export function computeGradients(model: TransformerModel, batches: Batch[], objective?: Objective, dropoutSeed?: number, trainable?: readonly string[]): Gradients {
  // a frozen base (LoRA) is left out of the backward pass: its gradients would be computed for nothing and counted in the clipping norm
  const only = trainable ? new Set(trainable) : null;
  const params = [...model.variables].filter(([name]) => !only || only.has(name));
  const vars = params.map(([, v]) => v);
  let sum: Record<string, tf.Tensor> | null = null;
  let loss = 0;
  for (const [i, batch] of batches.entries()) {
    const opts = { training: true, ...(dropoutSeed === undefined ? {} : { dropoutSeed: dropoutSeed + i }) };
    const { value, grads } = tf.variableGrads(() => model.loss(batch, objective, opts).loss, vars);
    loss += value.dataSync()[0];
    value.dispose();
    // a parameter the objective never touches (BERT's NSP head under plain MLM, a classifier head while
    // pretraining) gets no gradient: it is left out, and AdamW leaves it as it is, as torch does
    if (!sum) {
      sum = {};
      for (const [name, v] of params) if (grads[v.name]) sum[name] = grads[v.name];
    } else {
      for (const [name, v] of params) {
        if (!(name in sum)) continue;
        const next = tf.add(sum[name], grads[v.name]);
        tf.dispose([sum[name], grads[v.name]]);
        sum[name] = next;
      }
    }
  }
  if (!sum) throw new Error('computeGradients needs at least one batch');
  if (batches.length > 1) {
    for (const name of Object.keys(sum)) {
      const mean = tf.div(sum[name], batches.length);
      sum[name].dispose();
      sum[name] = mean;
    }
  }
  return { loss: loss / batches.length, grads: sum };
}

/** Clips (when clipNorm > 0) and applies AdamW at `lr`; disposes the gradients. Returns the norm before clipping. */
export function applyUpdate(optimizer: AdamW, grads: Record<string, tf.Tensor>, lr: number, clipNorm?: number): number {
  let gradNorm: number;
  if (clipNorm) {
    gradNorm = clipGradNorm(grads, clipNorm);
  } else {
    const n = globalNorm(Object.values(grads));
    gradNorm = n.dataSync()[0];
    n.dispose();
  }
  optimizer.step(grads, lr);
  tf.dispose(Object.values(grads));
  return gradNorm;
}

export interface StepOptions {
  lr: number;
  /** clip the global gradient norm to this value; 0 or undefined: no clipping */
  clipNorm?: number;
  objective?: Objective;
}

export interface StepResult {
  loss: number;
  /** global gradient norm before clipping */
  gradNorm: number;
}

/** computeGradients + applyUpdate on one batch. */
export function trainStep(model: TransformerModel, optimizer: AdamW, batch: Batch, opts: StepOptions): StepResult {
  const { loss, grads } = computeGradients(model, [batch], opts.objective);
  return { loss, gradNorm: applyUpdate(optimizer, grads, opts.lr, opts.clipNorm) };
}
