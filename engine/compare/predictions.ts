/**
 * How far a variant's predictions are from its base's on the same held-out batch: the mean KL(base ‖ variant)
 * of the next-token (GPT) or masked-token (BERT) distributions, and how often both put the same token first.
 * The positions are the batch's targets (labels ≠ -100): every position of a causal batch, the masked ones of
 * an MLM batch — where the models were trained to predict.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BERT } from '../models/bert/model';
import type { AnyModel } from '../models/registry';
import { IGNORE } from '../training/objectives';
import { toBatch, type HostBatch } from '../training/pretrainData';

export interface AgreementSums {
  /** KL summed over positions, nats */
  kl: number;
  /** positions whose top-1 tokens agree */
  agree: number;
  positions: number;
}

/** The positions of a batch that carry a target, as flat indices into [B·T]. */
export function targetPositions(h: HostBatch): number[] {
  const rows: number[] = [];
  h.labels.forEach((l, i) => { if (l !== IGNORE) rows.push(i); });
  return rows;
}

/** The language-model logits [N, V] of `model` at the flat positions `rows` of batch `h`. */
export function logitsAt(model: AnyModel, h: HostBatch, rows: number[]): tf.Tensor2D {
  return tf.tidy(() => {
    const { hidden } = model.forward(toBatch(h)); // [B, T, d]
    const [B, T, d] = hidden.shape;
    const picked = tf.gather(tf.reshape(hidden, [B * T, d]), tf.tensor1d(rows, 'int32')) as tf.Tensor2D; // [N, d]
    if (model instanceof BERT) return model.mlmLogitsRows(picked);
    return tf.reshape(model.lmLogits(tf.reshape(picked, [1, rows.length, d]) as tf.Tensor3D), [rows.length, -1]) as tf.Tensor2D;
  });
}

/** KL(p ‖ q) summed over rows and the count of rows whose argmaxes agree, from logits [N, V] of the same rows. */
export function agreementOf(baseLogits: tf.Tensor2D, variantLogits: tf.Tensor2D): { kl: number; agree: number } {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(baseLogits);
    const logQ = tf.logSoftmax(variantLogits);
    const kl = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ))).dataSync()[0];
    const agree = tf.sum(tf.cast(tf.equal(tf.argMax(baseLogits, 1), tf.argMax(variantLogits, 1)), 'int32')).dataSync()[0];
    return { kl, agree };
  });
}

/** One batch's sums, both models run on it; `yieldNow` between the two forward passes keeps a cancel audible. */
export async function compareOnBatch(base: AnyModel, variant: AnyModel, h: HostBatch, yieldNow: () => Promise<void>): Promise<AgreementSums> {
  const rows = targetPositions(h);
  if (rows.length === 0) return { kl: 0, agree: 0, positions: 0 };
  const p = logitsAt(base, h, rows);
  try {
    await yieldNow();
    const q = logitsAt(variant, h, rows);
    try {
      return { ...agreementOf(p, q), positions: rows.length };
    } finally {
      q.dispose();
    }
  } finally {
    p.dispose();
  }
}
