import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing';
import { eluFeatureMap, linearAttention } from './linearAttention';

/** The textbook causal form (the reference's): a cumsum over the [B, H, T, hd, dv] outer products. */
function cumsumForm(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor {
  return tf.tidy(() => {
    const Q = eluFeatureMap(q);
    const K = eluFeatureMap(k);
    const S = tf.cumsum(tf.mul(tf.expandDims(K, 4), tf.expandDims(v, 3)), 2); // [B, H, T, hd, dv]
    const num = tf.sum(tf.mul(tf.expandDims(Q, 4), S), 3); // [B, H, T, dv]
    const den = tf.sum(tf.mul(Q, tf.cumsum(K, 2)), 3, true); // [B, H, T, 1]
    return tf.div(num, den);
  });
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

for (const backend of TEST_BACKENDS) {
  describe(`linearAttention (${backend})`, () => {
    before(() => useBackend(backend));

    it('chunked causal form equals the cumsum form on a long sequence, with dv ≠ hd, for any chunk size', () => {
      tf.tidy(() => {
        const [B, H, T, hd, dv] = [2, 3, 301, 8, 5];
        const q = tf.randomNormal([B, H, T, hd], 0, 1, 'float32', 1) as tf.Tensor4D;
        const k = tf.randomNormal([B, H, T, hd], 0, 1, 'float32', 2) as tf.Tensor4D;
        const v = tf.randomNormal([B, H, T, dv], 0, 1, 'float32', 3) as tf.Tensor4D;
        const ref = cumsumForm(q, k, v);
        for (const chunkSize of [1, 16, 64, 301, 1000]) {
          const out = linearAttention(q, k, v, { causal: true, chunkSize });
          assert.deepEqual(out.shape, [B, H, T, dv]);
          assert.ok(maxAbsDiff(out, ref) < 1e-4, `chunk ${chunkSize}: ${maxAbsDiff(out, ref)}`);
        }
      });
    });

    it('is causal: the future does not change the past', () => {
      tf.tidy(() => {
        const shape: [number, number, number, number] = [1, 2, 20, 4];
        const [q, k, v] = [4, 5, 6].map((s) => tf.randomNormal(shape, 0, 1, 'float32', s) as tf.Tensor4D);
        const k2 = tf.concat([tf.slice(k, [0, 0, 0, 0], [-1, -1, 10, -1]), tf.randomNormal([1, 2, 10, 4], 0, 1, 'float32', 7)], 2) as tf.Tensor4D;
        const a = tf.slice(linearAttention(q, k, v, { causal: true, chunkSize: 6 }), [0, 0, 0, 0], [-1, -1, 10, -1]);
        const b = tf.slice(linearAttention(q, k2, v, { causal: true, chunkSize: 6 }), [0, 0, 0, 0], [-1, -1, 10, -1]);
        assert.equal(maxAbsDiff(a, b), 0);
      });
    });

    it('leaks no tensor, forward and backward', () => {
      const shape: [number, number, number, number] = [1, 2, 10, 4];
      const [q, k, v] = [8, 9, 10].map((s) => tf.randomNormal(shape, 0, 1, 'float32', s) as tf.Tensor4D);
      const start = tf.memory().numTensors;
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(linearAttention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, { causal: true, chunkSize: 3 })) as tf.Scalar)([q, k, v]);
      assert.equal(tf.memory().numTensors, start + 3);
      tf.dispose([...g, q, k, v]);
    });

    it('refuses mismatched shapes with the shapes in the message', () => {
      const q = tf.zeros([1, 2, 3, 4]) as tf.Tensor4D;
      const k = tf.zeros([1, 2, 5, 4]) as tf.Tensor4D;
      assert.throws(() => linearAttention(q, k, q, { causal: false }), /\[1,2,5,4\]/);
      tf.dispose([q, k]);
    });
  });
}
