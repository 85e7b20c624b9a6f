import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing';
import { clipGradNorm } from './clip';

for (const backend of TEST_BACKENDS) {
  describe(`clipGradNorm (${backend})`, () => {
    before(() => useBackend(backend));

    it('leaves gradients under the limit alone and scales a record over it to the limit', () => {
      const small = { a: tf.tensor([0.3, 0.4]) };
      const kept = small.a;
      assert.ok(Math.abs(clipGradNorm(small, 1) - 0.5) < 1e-7);
      assert.equal(small.a, kept);
      const big = { a: tf.tensor([3, 0]), b: tf.tensor([[4]]) };
      const start = tf.memory().numTensors;
      assert.ok(Math.abs(clipGradNorm(big, 1) - 5) < 1e-6);
      assert.equal(tf.memory().numTensors, start, 'old gradients are disposed');
      const data = [...big.a.dataSync(), ...big.b.dataSync()];
      [0.6, 0, 0.8].forEach((x, i) => assert.ok(Math.abs(data[i] - x) < 1e-6));
      assert.deepEqual(big.b.shape, [1, 1]);
      tf.dispose([small.a, big.a, big.b]);
    });
  });
}
