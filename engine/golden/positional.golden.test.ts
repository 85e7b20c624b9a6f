import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { GOLDEN_TOLERANCE, loadGolden, relError, toTensor, type GoldenTensor } from './golden';
import { TEST_BACKENDS, useBackend } from '../testing';
import { applyRope, sinusoidalTable } from '../models/positional';

const golden = loadGolden('positional_encodings');
const config = golden.config as { n: number; d: number; rope_base: number };
const out = golden.outputs as Record<string, GoldenTensor>;

for (const backend of TEST_BACKENDS) {
  describe(`positional encodings against PyTorch (${backend})`, () => {
    before(() => useBackend(backend));

    it('sinusoidal table', () => {
      const err = tf.tidy(() => relError(sinusoidalTable(config.n, config.d), out.sinusoidal));
      console.log(`  ${backend} sinusoidal rel err ${err.toExponential(2)}`);
      assert.ok(err <= GOLDEN_TOLERANCE, `relative error ${err}`);
    });

    for (const name of ['q', 'k'] as const) {
      it(`RoPE on ${name}`, () => {
        const err = tf.tidy(() => relError(applyRope(toTensor(golden.inputs[name] as GoldenTensor), config.rope_base), out[`${name}_rope`]));
        console.log(`  ${backend} ${name}_rope rel err ${err.toExponential(2)}`);
        assert.ok(err <= GOLDEN_TOLERANCE, `relative error ${err}`);
      });
    }

    it('RoPE with an offset equals the tail of a longer rotation', () => {
      tf.tidy(() => {
        const x = toTensor(golden.inputs.q as GoldenTensor) as tf.Tensor4D; // [B, H, T, hd]
        const T = x.shape[2];
        const full = applyRope(x, config.rope_base);
        const tail = applyRope(tf.slice(x, [0, 0, 2, 0], [-1, -1, T - 2, -1]), config.rope_base, 2);
        const err = relError(tail, { shape: tail.shape, data: Array.from(tf.slice(full, [0, 0, 2, 0], [-1, -1, T - 2, -1]).dataSync()) });
        assert.ok(err <= 1e-6, `relative error ${err}`);
      });
    });

    it('RoPE is a rotation: the gradient of sum(rope(x)²) is 2x', () => {
      tf.tidy(() => {
        const x = toTensor(golden.inputs.k as GoldenTensor);
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(applyRope(t, config.rope_base))))(x);
        const err = relError(g, { shape: x.shape, data: Array.from(tf.mul(x, 2).dataSync()) });
        assert.ok(err <= 1e-5, `relative error ${err}`);
      });
    });
  });
}
