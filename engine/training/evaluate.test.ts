/**
 * What an evaluation reports: the task's loss without an MoE's load-balancing term, and perplexity from
 * the language-model loss alone (for mlm-nsp, not from MLM + NSP).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '../models/registry';
import { useBackend } from '../testing';
import { Rng } from '../util/random';
import { evaluate } from './evaluate';
import { IGNORE } from './objectives';
import { toBatch, type HostBatch } from './pretrainData';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

function hostBatch(rng: Rng, B: number, T: number, V: number, bert: boolean): HostBatch {
  const inputIds = Int32Array.from({ length: B * T }, () => 5 + rng.int(V - 5));
  // BERT: a few positions are the masked ones; GPT: every position predicts the next id
  const labels = Int32Array.from(inputIds, (x, i) => (bert ? (i % 4 === 1 ? x : IGNORE) : (x + 1) % V));
  if (!bert) return { B, T, inputIds, labels };
  return {
    B, T, inputIds, labels,
    tokenTypeIds: Int32Array.from({ length: B * T }, (_, i) => Number(i % T >= T / 2)),
    attentionMask: new Int32Array(B * T).fill(1),
    nextSentenceLabels: Int32Array.from({ length: B }, (_, b) => b % 2),
  };
}

describe('evaluate', () => {
  it('reports perplexity from the masked-LM loss alone, and loss as MLM + NSP', async () => {
    await useBackend('cpu');
    const model = createModel({ arch: 'bert', vocabSize: 50, contextLength: 16, dModel: 16, nHeads: 2, nLayers: 1, dropout: 0 }, 1);
    const h = hostBatch(new Rng(2), 3, 16, 50, true);
    const r = await evaluate(model, [h], 'mlm-nsp');
    const parts = tf.tidy(() => {
      const p = model.loss(toBatch(h), 'mlm-nsp').parts;
      return { mlm: p.mlm.dataSync()[0], nsp: p.nsp.dataSync()[0] };
    });
    close(r.loss, parts.mlm + parts.nsp, 'loss');
    close(r.perplexity, Math.exp(parts.mlm), 'perplexity');
    model.dispose();
  });

  it('leaves an MoE\'s load-balancing loss out of the validation loss', async () => {
    await useBackend('cpu');
    const model = createModel({ arch: 'gpt', vocabSize: 40, contextLength: 8, dModel: 16, nHeads: 2, nLayers: 1, dropout: 0, moe: { experts: 4, topK: 1, auxLossWeight: 1 } }, 3);
    const h = hostBatch(new Rng(4), 2, 8, 40, false);
    const r = await evaluate(model, [h], 'causal-lm');
    const { lm, total } = tf.tidy(() => {
      const l = model.loss(toBatch(h), 'causal-lm');
      return { lm: l.parts.lm.dataSync()[0], total: l.loss.dataSync()[0] };
    });
    assert.ok(total > lm + 1e-3, `the training loss carries the load-balancing term (${total} > ${lm})`);
    close(r.loss, lm, 'loss');
    close(r.perplexity, Math.exp(lm), 'perplexity');
    model.dispose();
  });
});
