import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing';
import { dequantize, quantizeInt8PerChannel, quantizeUint8PerTensor, quantizedBytes, roundHalfEven } from './quantize';

describe('roundHalfEven', () => {
  it('rounds halves to the even neighbour, as torch.round', () => {
    assert.deepEqual([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.4999, -1.6].map(roundHalfEven).map((x) => x + 0), [-2, -2, 0, 0, 2, 2, 1, -2]);
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`quantization (${backend})`, () => {
    before(() => useBackend(backend));

    it('int8: error at most half a step per channel; a zero channel stays zero; a quarter of the bytes', () => {
      tf.tidy(() => {
        const w = tf.concat([tf.randomNormal([5, 33], 0, 0.1, 'float32', 1), tf.zeros([1, 33])]);
        const q = quantizeInt8PerChannel(w);
        assert.equal(q.scale[5], 0);
        const back = dequantize(q).dataSync();
        const data = w.dataSync();
        for (let i = 0; i < data.length; i++) assert.ok(Math.abs(back[i] - data[i]) <= q.scale[Math.floor(i / 33)] / 2 + 1e-7);
        assert.ok(Array.from(q.q).every((c) => c >= -127 && c <= 127));
        assert.equal(quantizedBytes(q), 6 * 33 + 6 * 4);
      });
    });

    it('uint8: an all-positive tensor keeps zero exact, with zero point 0', () => {
      tf.tidy(() => {
        const w = tf.tensor([0.5, 1, 2, 0.25]);
        const q = quantizeUint8PerTensor(w);
        assert.equal(q.zeroPoint, 0);
        assert.ok(Math.abs(q.scale - 2 / 255) < 1e-12);
        const back = dequantize(q).dataSync();
        w.dataSync().forEach((x, i) => assert.ok(Math.abs(back[i] - x) <= q.scale / 2 + 1e-7));
        const zeros = quantizeUint8PerTensor(tf.zeros([3]));
        assert.deepEqual(Array.from(dequantize(zeros).dataSync()), [0, 0, 0]);
      });
    });
  });
}
