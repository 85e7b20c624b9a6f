/**
 * A padded batch gives every sequence the logits it gets decoded alone, for every positional encoding and
 * attention kind a GPT can have, while rows leave the batch and join it (longer and shorter than it) on the way.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfigInput } from '../../common/modelConfig';
import { createModel } from '../models/registry';
import type { GPT } from '../models/gpt/model';
import { NextTokenLogits } from '../inspect/sample';
import { TEST_BACKENDS, useBackend } from '../testing';
import { PaddedBatch } from './paddedBatch';

const base = { arch: 'gpt', vocabSize: 29, contextLength: 16, dModel: 16, nHeads: 4, nLayers: 2 } as const;
const prompts = [[3, 7, 1, 22, 9], [4], [9, 9, 4, 0, 15, 8, 2, 6], [11, 2], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [2]];
/** when each sequence joins the batch (0: at the start) and how many tokens it is fed before it leaves */
const joinsAt = [0, 0, 0, 0, 2, 3];
const lasts = [5, 1, 5, 3, 3, 4];
/** the token each row is fed at each step (the same for the batch and for the reference) */
const fed = (row: number, step: number) => (row * 7 + step * 5 + 1) % base.vocabSize;

function worstDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

for (const backend of TEST_BACKENDS) {
  describe(`padded batch decoding (${backend})`, () => {
    before(() => useBackend(backend));
    const variants: [string, Partial<ModelConfigInput>][] = [
      ['learned positions', {}], ['sinusoidal', { positional: 'sinusoidal' }], ['RoPE', { positional: 'rope' }],
      ['linear attention', { attention: 'linear' }], ['mixture of experts', { moe: { experts: 3, topK: 2 } }],
    ];
    for (const [name, extra] of variants) {
      it(`${name}: each row's logits equal its sequence's alone, as rows leave and join`, () => {
        const model = createModel({ ...base, ...extra } as ModelConfigInput, 5) as GPT;
        const tensorsBefore = tf.memory().numTensors;
        const alone = prompts.map(() => new NextTokenLogits(model));
        const seqs = prompts.map((p) => [...p]);
        const starting = prompts.flatMap((_, i) => (joinsAt[i] === 0 ? [i] : []));
        const batch = new PaddedBatch(model, starting.map((i) => prompts[i]));
        let rows = starting; // original index of each batch row
        let logits = batch.start();
        let worst = 0;
        let compared = 0;
        for (let step = 0; rows.length; step++) {
          rows.forEach((r, b) => { worst = Math.max(worst, worstDiff(logits[b], alone[r].next(seqs[r]))); compared++; });
          const stay = rows.map((r, b) => [r, b]).filter(([r]) => step - joinsAt[r] < lasts[r]);
          if (stay.length < rows.length && stay.length) batch.keep(stay.map(([, b]) => b));
          rows = stay.map(([r]) => r);
          if (!rows.length) break;
          const tokens = rows.map((r) => fed(r, step));
          rows.forEach((r, i) => seqs[r].push(tokens[i]));
          logits = batch.step(tokens);
          const joining = prompts.flatMap((_, i) => (joinsAt[i] === step + 1 ? [i] : []));
          if (joining.length) {
            logits = [...logits, ...batch.join(joining.map((i) => prompts[i]))];
            rows = [...rows, ...joining];
          }
        }
        assert.equal(compared, lasts.reduce((a, n) => a + n + 1, 0), 'every row compared at every step it was in the batch');
        assert.ok(worst < 1e-4, `padded-batch and single-sequence logits differ by ${worst}`);
        batch.dispose();
        for (const a of alone) a.dispose();
        assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor leaks');
        model.dispose();
      });
    }

    it('padding changes nothing that a mask would miss: a row alone in a batch equals the same row padded among others', () => {
      const model = createModel(base, 9) as GPT;
      const solo = new PaddedBatch(model, [prompts[1]]);
      const padded = new PaddedBatch(model, [prompts[2], prompts[1]]);
      assert.ok(worstDiff(solo.start()[0], padded.start()[1]) < 1e-4);
      assert.ok(worstDiff(solo.step([5])[0], padded.step([6, 5])[1]) < 1e-4);
      solo.dispose();
      padded.dispose();
      model.dispose();
    });
  });
}
