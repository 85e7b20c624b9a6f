/**
 * Evaluation on fixed batches: mean loss and perplexity, plus masked-LM and next-sentence accuracy for
 * BERT — all from one forward pass per batch, with no gradient recorded. The loss is the task's alone
 * (an MoE's load-balancing term is a training device, left out for both architectures), and perplexity is
 * exp of the language-model part only: for mlm-nsp the NSP loss counts in `loss`, not in perplexity.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Objective } from '../../common/pretrainConfig';
import type { EvalResult } from '../../common/runEvents';
import { BERT } from '../models/bert/model';
import { crossEntropy } from '../models/layers';
import type { AnyModel } from '../models/registry';
import { IGNORE } from './objectives';
import { toBatch, type HostBatch } from './pretrainData';

export type { EvalResult };

function argmaxRows(logits: tf.Tensor2D): Int32Array {
  return tf.tidy(() => tf.argMax(logits, 1).dataSync() as Int32Array);
}

/**
 * One forward pass per batch, with the event loop let through between batches: an evaluation of 20 batches
 * of a mini BERT takes seconds on two cores, and the engine must hear a cancel or a status meanwhile.
 */
export async function evaluate(model: AnyModel, batches: HostBatch[], objective: Objective): Promise<EvalResult> {
  let loss = 0;
  let lmLoss = 0;
  let mlmRight = 0, mlmCount = 0, nspRight = 0, nspCount = 0;
  for (const h of batches) {
    await new Promise((resolve) => setImmediate(resolve));
    tf.tidy(() => {
      const batch = toBatch(h);
      if (!(model instanceof BERT)) {
        const r = model.loss(batch, objective);
        const task = (r.parts.lm ?? r.loss).dataSync()[0];
        loss += task;
        lmLoss += task;
        return;
      }
      const { hidden } = model.forward(batch);
      const [B, T, d] = hidden.shape;
      const rows: number[] = [];
      const targets: number[] = [];
      h.labels.forEach((l, i) => { if (l !== IGNORE) { rows.push(i); targets.push(l); } });
      let batchLoss = 0;
      if (rows.length) {
        const logits = model.mlmLogitsRows(tf.gather(tf.reshape(hidden, [B * T, d]), tf.tensor1d(rows, 'int32')) as tf.Tensor2D);
        const mlm = crossEntropy(logits, tf.tensor1d(targets, 'int32')).dataSync()[0];
        batchLoss += mlm;
        lmLoss += mlm;
        argmaxRows(logits).forEach((p, i) => { if (p === targets[i]) mlmRight++; });
        mlmCount += rows.length;
      }
      if (objective === 'mlm-nsp' && h.nextSentenceLabels) {
        const logits = model.nspLogits(hidden);
        batchLoss += crossEntropy(logits, batch.nextSentenceLabels!).dataSync()[0];
        argmaxRows(logits).forEach((p, i) => { if (p === h.nextSentenceLabels![i]) nspRight++; });
        nspCount += h.B;
      }
      loss += batchLoss;
    });
  }
  const n = Math.max(1, batches.length);
  return {
    loss: loss / n,
    perplexity: Math.exp(lmLoss / n),
    ...(mlmCount ? { mlmAccuracy: mlmRight / mlmCount } : {}),
    ...(nspCount ? { nspAccuracy: nspRight / nspCount } : {}),
  };
}
