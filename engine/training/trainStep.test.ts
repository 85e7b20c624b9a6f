import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '../models/registry';
import { TEST_BACKENDS, useBackend } from '../testing';
import { Rng } from '../util/random';
import { AdamW } from './adamw';
import { computeGradients, trainStep } from './trainStep';

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

describe('gradient accumulation', () => {
  it('averages micro-batches to the gradients of the whole batch', async () => {
    await useBackend('cpu');
    const model = createModel({ arch: 'gpt', vocabSize: 16, contextLength: 8, dModel: 16, nHeads: 2, nLayers: 1 }, 5);
    const rng = new Rng(4);
    const whole = randomBatch(rng, 4, 8, 16);
    const half = (b: typeof whole, from: number) => ({ inputIds: tf.slice(b.inputIds, [from, 0], [2, 8]) as tf.Tensor2D, labels: tf.slice(b.labels, [from, 0], [2, 8]) as tf.Tensor2D });
    const one = computeGradients(model, [whole]);
    const two = computeGradients(model, [half(whole, 0), half(whole, 2)]);
    assert.ok(Math.abs(one.loss - two.loss) < 1e-6);
    for (const name of Object.keys(one.grads)) {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(one.grads[name], two.grads[name]))).dataSync()[0]);
      const scale = tf.tidy(() => tf.max(tf.abs(one.grads[name])).dataSync()[0]);
      assert.ok(diff <= 1e-5 * (scale + 1e-6), `${name}: ${diff} vs ${scale}`);
    }
    tf.dispose([...Object.values(one.grads), ...Object.values(two.grads), ...Object.values(whole)]);
    model.dispose();
  });
});
