import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { GOLDEN_TOLERANCE, loadGolden, relError, toTensor, type GoldenTensor } from './golden';
import { TEST_BACKENDS, useBackend } from '../testing';
import { dequantize, quantizeInt8PerChannel, quantizeUint8PerTensor } from '../compression/quantize';
import { distillationLoss } from '../compression/distill';
import { loraLinear } from '../compression/lora';

const golden = loadGolden('compression');
const config = golden.config as { kd_temperature: number; lora_r: number; lora_alpha: number };
const input = (name: string) => toTensor(golden.inputs[name] as GoldenTensor);
const out = golden.outputs as Record<string, GoldenTensor>;
/** the reference's integer codes, with torch's −0.0 read as 0 (an Int8Array has no −0) */
const codes = (g: GoldenTensor) => g.data.map((c) => c + 0);
const scalarOut = (name: string) => golden.outputs[name] as number;

function check(label: string, actual: tf.Tensor | ArrayLike<number>, expected: GoldenTensor | ArrayLike<number>): void {
  const err = relError(actual, expected);
  console.log(`  ${label} rel err ${err.toExponential(2)}`);
  assert.ok(err <= GOLDEN_TOLERANCE, `${label}: relative error ${err} exceeds ${GOLDEN_TOLERANCE}`);
}

for (const backend of TEST_BACKENDS) {
  describe(`compression against PyTorch (${backend})`, () => {
    before(() => useBackend(backend));

    it('int8 symmetric per-output-channel quantization', () => {
      tf.tidy(() => {
        const W = input('W'); // [out, in]
        const q = quantizeInt8PerChannel(W, 0);
        assert.deepEqual(q.shape, out.int8_q.shape);
        assert.deepEqual(Array.from(q.q), codes(out.int8_q), 'int8 codes');
        check(`${backend} int8_scale`, q.scale, out.int8_scale);
        check(`${backend} int8_dequant`, dequantize(q), out.int8_dequant);
        // the same weight stored transposed ([in, out], GPT-2's layout) quantizes to the transposed codes
        const qT = quantizeInt8PerChannel(tf.transpose(W), 1);
        check(`${backend} int8_dequant (in,out layout)`, tf.transpose(dequantize(qT)), out.int8_dequant);
      });
    });

    it('uint8 asymmetric per-tensor quantization', () => {
      tf.tidy(() => {
        const q = quantizeUint8PerTensor(input('W'));
        check(`${backend} uint8_scale`, [q.scale], [scalarOut('uint8_scale')]);
        assert.equal(q.zeroPoint, scalarOut('uint8_zero_point'));
        assert.deepEqual(Array.from(q.q), codes(out.uint8_q), 'uint8 codes');
      });
    });

    it('Hinton distillation loss and its gradient', () => {
      tf.tidy(() => {
        const s = input('student_logits');
        const t = input('teacher_logits');
        const T = config.kd_temperature;
        check(`${backend} kd_loss`, [distillationLoss(s, t, T).dataSync()[0]], [scalarOut('kd_loss')]);
        const g = tf.grad((x: tf.Tensor) => distillationLoss(x, t, T))(s);
        check(`${backend} grad student_logits`, g, golden.grads.student_logits);
      });
    });

    it('LoRA forward and gradients of sum(y²) for A and B', () => {
      tf.tidy(() => {
        const base = { weight: input('W'), bias: input('b'), layout: 'out_in' as const };
        const x = input('x');
        const cfg = { r: config.lora_r, alpha: config.lora_alpha };
        const A = input('lora_A');
        const B = input('lora_B');
        check(`${backend} lora_y`, loraLinear(x, base, { A, B }, cfg), out.lora_y);
        const [gA, gB] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(loraLinear(x, base, { A: a, B: b }, cfg))) as tf.Scalar)([A, B]);
        check(`${backend} grad lora_A`, gA, golden.grads.lora_A);
        check(`${backend} grad lora_B`, gB, golden.grads.lora_B);
        // GPT-2's Conv1D layout gives the same layer
        const conv = { weight: tf.transpose(base.weight), bias: base.bias, layout: 'in_out' as const };
        check(`${backend} lora_y (in,out layout)`, loraLinear(x, conv, { A, B }, cfg), out.lora_y);
      });
    });
  });
}
