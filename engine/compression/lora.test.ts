import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing';
import { createLoraParams, loraLinear, mergeLora } from './lora';
import { distillationLoss } from './distill';

for (const backend of TEST_BACKENDS) {
  describe(`LoRA and distillation (${backend})`, () => {
    before(() => useBackend(backend));

    it('a fresh adapter leaves the layer unchanged; only A and B train while W stays frozen', () => {
      const [inF, outF] = [12, 9];
      const weight = tf.variable(tf.randomNormal([inF, outF], 0, 0.2, 'float32', 1), false); // GPT-2 Conv1D layout, frozen
      const bias = tf.variable(tf.randomNormal([outF], 0, 0.1, 'float32', 2), false);
      const base = { weight, bias, layout: 'in_out' as const };
      const cfg = { r: 4, alpha: 8 };
      const vars = createLoraParams('h.0.attn.c_attn', inF, outF, cfg, 3);
      assert.deepEqual(vars['h.0.attn.c_attn.lora_A.weight'].shape, [4, inF]);
      assert.deepEqual(vars['h.0.attn.c_attn.lora_B.weight'].shape, [outF, 4]);
      const lora = { A: vars['h.0.attn.c_attn.lora_A.weight'], B: vars['h.0.attn.c_attn.lora_B.weight'] };
      const x = tf.randomNormal([2, 5, inF], 0, 1, 'float32', 4); // [B, T, in]
      tf.tidy(() => {
        const y = loraLinear(x, base, lora, cfg);
        assert.deepEqual(y.shape, [2, 5, outF]);
        const plain = tf.add(tf.matMul(tf.reshape(x, [10, inF]), weight), bias).reshape([2, 5, outF]);
        assert.ok(tf.max(tf.abs(tf.sub(y, plain))).dataSync()[0] < 1e-6);
      });
      // every trainable variable in the process is a candidate: only the adapter's may receive gradients
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(loraLinear(x, base, lora, cfg))) as tf.Scalar);
      assert.deepEqual(Object.keys(grads).sort(), [lora.A.name, lora.B.name].sort());
      tf.dispose([value, ...Object.values(grads), x, weight, bias, ...Object.values(vars)]);
    });

    it('merging the adapter into W gives the same outputs', () => {
      tf.tidy(() => {
        for (const layout of ['out_in', 'in_out'] as const) {
          const weight = tf.randomNormal(layout === 'out_in' ? [7, 6] : [6, 7], 0, 0.3, 'float32', 5);
          const lora = { A: tf.randomNormal([3, 6], 0, 1, 'float32', 6), B: tf.randomNormal([7, 3], 0, 1, 'float32', 7) };
          const cfg = { r: 3, alpha: 6 };
          const x = tf.randomNormal([4, 6], 0, 1, 'float32', 8);
          const merged = { weight: mergeLora({ weight, layout }, lora, cfg), layout };
          const zero = { A: tf.zeros([3, 6]), B: tf.zeros([7, 3]) };
          const diff = tf.max(tf.abs(tf.sub(loraLinear(x, { weight, layout }, lora, cfg), loraLinear(x, merged, zero, cfg)))).dataSync()[0];
          assert.ok(diff < 1e-5, `${layout}: ${diff}`);
        }
      });
    });

    it('distillation loss is zero for a student equal to the teacher, and averages over all positions of [B, T, V]', () => {
      tf.tidy(() => {
        const t = tf.randomNormal([2, 3, 11], 0, 2, 'float32', 9);
        assert.ok(Math.abs(distillationLoss(t, t, 3).dataSync()[0]) < 1e-6);
        const s = tf.randomNormal([2, 3, 11], 0, 2, 'float32', 10);
        const flat = distillationLoss(tf.reshape(s, [6, 11]), tf.reshape(t, [6, 11]), 2).dataSync()[0];
        assert.ok(Math.abs(distillationLoss(s, t, 2).dataSync()[0] - flat) < 1e-6);
      });
    });
  });
}
