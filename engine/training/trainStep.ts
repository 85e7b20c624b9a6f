/**
 * One optimisation step: loss and gradients of every parameter, global-norm clipping, AdamW.
 * Everything it allocates is released before it returns (a test holds tf.memory().numTensors flat).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, Objective, TransformerModel } from '../models/types';
import type { AdamW } from './adamw';
import { clipGradNorm, globalNorm } from './clip';

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

export function trainStep(model: TransformerModel, optimizer: AdamW, batch: Batch, opts: StepOptions): StepResult {
  const params = [...model.variables];
  const { value, grads } = tf.variableGrads(() => model.loss(batch, opts.objective, { training: true }).loss, params.map(([, v]) => v));
  const named: Record<string, tf.Tensor> = {};
  for (const [name, v] of params) named[name] = grads[v.name];
  let gradNorm: number;
  if (opts.clipNorm) {
    gradNorm = clipGradNorm(named, opts.clipNorm);
  } else {
    const n = globalNorm(Object.values(named));
    gradNorm = n.dataSync()[0];
    n.dispose();
  }
  optimizer.step(named, opts.lr);
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(named)]);
  return { loss, gradNorm };
}
