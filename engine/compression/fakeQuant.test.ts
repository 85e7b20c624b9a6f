import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { GOLDEN_TOLERANCE, loadGolden, relError, toTensor, type GoldenTensor } from '../golden/golden';
import { TEST_BACKENDS, useBackend } from '../testing';
import { fakeQuantPerToken, fakeQuantStatic, fakeQuantWeight } from './fakeQuant';
import { dequantize, quantizeInt8PerChannel } from './quantize';

const golden = loadGolden('compression');
const W = () => toTensor(golden.inputs.W as GoldenTensor) as tf.Tensor2D; // [out, in]
const dequant = golden.outputs.int8_dequant as GoldenTensor;

const same = (a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>, label: string) => {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  const y = b instanceof tf.Tensor ? b.dataSync() : b;
  assert.equal(x.length, y.length, label);
  for (let i = 0; i < x.length; i++) assert.ok(x[i] === y[i], `${label}: element ${i} is ${x[i]}, expected ${y[i]}`); // −0 and 0 are the same value here
};

for (const backend of TEST_BACKENDS) {
  describe(`fake quantization (${backend})`, () => {
    before(() => useBackend(backend));

    it('a weight fake-quantized per channel is compression.json\'s int8 quantize→dequantize, in either layout, and bit for bit what an int8 checkpoint opens to', () => {
      tf.tidy(() => {
        for (const [label, y] of [['out,in', fakeQuantWeight(W(), 0)], ['in,out', tf.transpose(fakeQuantWeight(tf.transpose(W()) as tf.Tensor2D, 1))]] as const) {
          const err = relError(y, dequant);
          assert.ok(err <= GOLDEN_TOLERANCE, `${label} layout: relative error ${err} against PyTorch (float64) exceeds ${GOLDEN_TOLERANCE}`);
        }
        same(fakeQuantWeight(W(), 0), dequantize(quantizeInt8PerChannel(W(), 0)), 'stored codes');
      });
    });

    it('held-out weights (random, with an all-zero channel) match quantize→dequantize too', () => {
      tf.tidy(() => {
        for (let seed = 1; seed <= 5; seed++) {
          const w = tf.concat([tf.randomNormal([7, 19], 0, 0.02 * seed, 'float32', seed), tf.zeros([1, 19])]) as tf.Tensor2D;
          same(fakeQuantWeight(w, 0), dequantize(quantizeInt8PerChannel(w, 0)), `seed ${seed}, axis 0`);
          same(fakeQuantWeight(w, 1), dequantize(quantizeInt8PerChannel(w, 1)), `seed ${seed}, axis 1`);
        }
      });
    });

    it('the straight-through estimator: the gradient of a fake-quantized weight is the upstream gradient, unchanged', () => {
      tf.tidy(() => {
        const w = W();
        const up = tf.randomNormal(w.shape, 0, 1, 'float32', 7);
        const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fakeQuantWeight(x as tf.Tensor2D, 0), up)))(w);
        same(g, up, 'weight gradient');
        const x = tf.randomNormal([4, 6], 0, 1, 'float32', 8) as tf.Tensor2D;
        same(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(fakeQuantPerToken(t as tf.Tensor2D), up.slice([0, 0], [4, 6]))))(x), up.slice([0, 0], [4, 6]), 'per-token gradient');
      });
    });

    it('per token: one scale per row, max|x|/127; a row of zeros stays zero', () => {
      tf.tidy(() => {
        const x = tf.tensor2d([[0.5, -1.27, 0.01], [0, 0, 0], [100, 3, -7]]);
        const y = fakeQuantPerToken(x).arraySync();
        const expect = x.arraySync().map((row) => {
          const s = Math.fround(Math.max(...row.map(Math.abs), 1e-12) / 127);
          return row.map((v) => Math.fround(Math.max(-127, Math.min(127, Math.round(Math.fround(v / s)))) * s));
        });
        y.forEach((row, r) => row.forEach((v, c) => assert.ok(Math.abs(v - expect[r][c]) <= 1e-6 * Math.abs(expect[r][c]) + 1e-12, `row ${r} col ${c}: ${v} vs ${expect[r][c]}`)));
        assert.deepEqual(y[1], [0, 0, 0]);
      });
    });

    it('static: values beyond the range clip to ±127 steps and get no gradient there', () => {
      tf.tidy(() => {
        const x = tf.tensor2d([[0.05, 0.2, -3, 1]]);
        const s = 0.01; // range ±1.27
        const y = Array.from(fakeQuantStatic(x, s).dataSync());
        assert.deepEqual(y.map((v) => Math.round(v / s)), [5, 20, -127, 100]);
        const g = Array.from(tf.grad((t: tf.Tensor) => tf.sum(fakeQuantStatic(t as tf.Tensor2D, s)))(x).dataSync());
        assert.deepEqual(g, [1, 1, 0, 1]);
      });
    });
  });
}
