import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '../models/registry';
import { TEST_BACKENDS, useBackend } from '../testing';
import { Rng } from '../util/random';
import { AdamW } from './adamw';
import { trainStep } from './trainStep';

function randomBatch(rng: Rng, B: number, T: number, V: number) {
  const ids = Array.from({ length: B * T }, () => rng.int(V));
  // a learnable target: the next id is the current one plus one
  const labels = ids.map((x) => (x + 1) % V);
  return { inputIds: tf.tensor2d(ids, [B, T], 'int32'), labels: tf.tensor2d(labels, [B, T], 'int32') };
}

for (const backend of TEST_BACKENDS) {
  describe(`training steps on ${backend}`, () => {
    it('learns, and leaks no tensor over 200 steps', async () => {
      await useBackend(backend);
      const model = createModel({ arch: 'gpt', vocabSize: 16, contextLength: 16, dModel: 32, nHeads: 4, nLayers: 2 }, 3);
      const opt = new AdamW(Object.fromEntries(model.variables), { lr: 3e-3, beta2: 0.99, weightDecay: 0.1 });
      const rng = new Rng(1);
      const losses: number[] = [];
      let before = 0;
      for (let step = 0; step < 200; step++) {
        const batch = randomBatch(rng, 4, 16, 16);
        losses.push(trainStep(model, opt, batch, { lr: 3e-3, clipNorm: 1 }).loss);
        tf.dispose(Object.values(batch));
        if (step === 1) before = tf.memory().numTensors; // after the first step the optimizer's moments exist
        if (step > 1) assert.equal(tf.memory().numTensors, before, `tensors grew at step ${step}`);
      }
      assert.ok(losses[199] < 0.5 * losses[0], `loss fell from ${losses[0]} to ${losses[199]}`);
      opt.dispose();
      model.dispose();
    });
  });
}
