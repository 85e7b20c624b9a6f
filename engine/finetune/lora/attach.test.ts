/**
 * Adapters on a model (./attach.ts, ./merge.ts): the hook computes compression.json's LoRA layer (PyTorch's
 * numbers) on cpu and wasm; a fresh adapter changes nothing; dropout is on the adapter's input while training
 * only, repeatable from the pass's seed; merged logits equal adapted ones; unmerge restores every weight
 * bit for bit; detach leaves the model as it was.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { LoraConfig } from '../../../common/finetuneConfig';
import { GOLDEN_TOLERANCE, loadGolden, relError, toTensor, type GoldenTensor } from '../../golden/golden';
import { linearT } from '../../models/layers';
import { createModel, type AnyModel } from '../../models/registry';
import { TEST_BACKENDS, useBackend } from '../../testing';
import { attachLora, loraParamNames } from './attach';
import { mergeAdapters } from './merge';

const golden = loadGolden('compression');
const gc = golden.config as { lora_r: number; lora_alpha: number };
const input = (name: string) => toTensor(golden.inputs[name] as GoldenTensor);
const ids = () => tf.tensor2d([[1, 5, 2, 7, 3, 9], [4, 4, 8, 1, 0, 6]], [2, 6], 'int32');

/** Gives every adapter a non-zero B, as after some training, so that it changes the outputs. */
function trainedLooking(model: AnyModel, names: string[]): void {
  names.filter((n) => n.includes('lora_B')).forEach((n, i) => {
    const v = model.params.get(n);
    tf.tidy(() => model.params.assign(n, tf.randomNormal(v.shape, 0, 0.5, 'float32', 50 + i)));
  });
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const snapshot = (model: AnyModel) => new Map(model.params.names.map((n) => [n, Buffer.from((model.params.get(n).dataSync() as Float32Array).buffer.slice(0))]));

for (const backend of TEST_BACKENDS) {
  describe(`LoRA adapters on a model (${backend})`, () => {
    before(() => useBackend(backend));

    it('compute compression.json\'s LoRA layer and its gradients through the model\'s hook', () => {
      // a BERT classifier [6, 10] is golden's W [out, in]
      const model = createModel({ arch: 'bert', vocabSize: 12, contextLength: 8, dModel: 10, nHeads: 2, nLayers: 1, dFF: 12, numLabels: 6 }, 2);
      const att = attachLora(model, LoraConfig.parse({ r: gc.lora_r, alpha: gc.lora_alpha, dropout: 0, targetModules: ['classifier'] }), 3);
      assert.deepEqual(att.targets, ['classifier']);
      const n = loraParamNames('classifier');
      tf.tidy(() => {
        model.params.assign('classifier.weight', input('W'));
        model.params.assign('classifier.bias', input('b'));
        model.params.assign(n.A, input('lora_A'));
        model.params.assign(n.B, input('lora_B'));
        const x = input('x') as tf.Tensor2D;
        const layer = () => tf.add(linearT(x, model.params.get('classifier.weight') as tf.Tensor2D, model.params.get('classifier.bias') as tf.Tensor1D), model.linearAdapter!('classifier', x, { training: false })!);
        const y = layer();
        assert.ok(relError(y, golden.outputs.lora_y as GoldenTensor) <= GOLDEN_TOLERANCE, `lora_y rel err ${relError(y, golden.outputs.lora_y as GoldenTensor)}`);
        const A = model.params.get(n.A);
        const B = model.params.get(n.B);
        const { grads } = tf.variableGrads(() => tf.sum(tf.square(layer())) as tf.Scalar, [A, B]);
        assert.ok(relError(grads[A.name], golden.grads.lora_A) <= GOLDEN_TOLERANCE, 'grad lora_A');
        assert.ok(relError(grads[B.name], golden.grads.lora_B) <= GOLDEN_TOLERANCE, 'grad lora_B');
      });
      model.dispose();
    });

    it('start as the base, train only A and B, drop out the adapter input while training only, and come off exactly', () => {
      const model = createModel({ arch: 'gpt', vocabSize: 12, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 2 }, 4);
      const before = model.forward({ inputIds: ids() }).hidden;
      const stored = snapshot(model);
      const att = attachLora(model, LoraConfig.parse({ r: 2, alpha: 4, dropout: 0.5, targetModules: ['c_attn', 'mlp.c_fc'] }), 5);
      assert.deepEqual(att.targets, ['h.0.attn.c_attn', 'h.0.mlp.c_fc', 'h.1.attn.c_attn', 'h.1.mlp.c_fc']);
      assert.deepEqual(model.params.get('h.0.attn.c_attn.lora_A.weight').shape, [2, 8]);
      assert.deepEqual(model.params.get('h.0.attn.c_attn.lora_B.weight').shape, [24, 2], 'B is [out, r] for the Conv1D [in, out] weight');
      assert.equal(att.share.adapter, 2 * (2 * 8 + 24 * 2 + 2 * 8 + 32 * 2));
      assert.equal(att.share.total, model.params.count);
      assert.equal(maxDiff(model.forward({ inputIds: ids() }).hidden, before), 0, 'B = 0: the adapted model is the base');

      trainedLooking(model, att.trainable);
      const adapted = model.forward({ inputIds: ids() }).hidden;
      assert.ok(maxDiff(adapted, before) > 1e-3, 'a trained adapter changes the outputs');
      // training passes draw adapter dropout from the pass's seed (model dropout is 0 by default here)
      const pass = (seed: number) => model.forward({ inputIds: ids() }, { training: true, dropoutSeed: seed }).hidden;
      assert.equal(maxDiff(pass(7), pass(7)), 0, 'the same seed draws the same masks');
      assert.ok(maxDiff(pass(7), pass(8)) > 1e-4, 'another seed, other masks');
      assert.ok(maxDiff(pass(7), adapted) > 1e-4, 'training drops out the adapter input');

      // gradients reach A and B; the frozen base is not asked for
      const vars = att.trainable.map((n) => model.params.get(n));
      const { grads } = tf.variableGrads(() => model.loss({ inputIds: ids(), labels: ids() }, 'causal-lm').loss, vars);
      assert.equal(Object.keys(grads).length, att.trainable.length);

      att.detach();
      assert.equal(model.linearAdapter, null);
      assert.deepEqual(model.params.names, [...stored.keys()].filter((n) => !n.includes('lora_')));
      assert.equal(maxDiff(model.forward({ inputIds: ids() }).hidden, before), 0, 'detached: the base again, bit for bit');
      model.dispose();
    });

    for (const arch of ['gpt', 'bert'] as const) {
      it(`${arch}: merged logits equal adapted logits within 1e-5; unmerge restores every weight bit for bit`, () => {
        const model = createModel({ arch, vocabSize: 12, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 2, dFF: 16 }, 6);
        const att = attachLora(model, LoraConfig.parse({ r: 4, alpha: 8, targetModules: arch === 'gpt' ? ['c_attn', 'c_proj', 'c_fc'] : ['query', 'key', 'value', 'dense'] }), 7);
        trainedLooking(model, att.trainable);
        const original = snapshot(model);
        const logits = (m: AnyModel) => (m.config.arch === 'gpt' ? (m as import('../../models/gpt/model').GPT).lmLogits(m.forward({ inputIds: ids() }).hidden) : (m as import('../../models/bert/model').BERT).mlmLogits(m.forward({ inputIds: ids() }).hidden));
        const adapted = logits(model);
        for (let cycle = 0; cycle < 3; cycle++) {
          const merged = mergeAdapters(model, att);
          const d = maxDiff(logits(model), adapted);
          assert.ok(d < 1e-5, `merged logits differ by ${d}`);
          assert.ok(maxDiff(model.params.get(att.targets[0] + '.weight'), tf.tensor(Array.from(new Float32Array(original.get(att.targets[0] + '.weight')!.buffer)), model.params.get(att.targets[0] + '.weight').shape)) > 1e-4, 'the weight holds the adapter now');
          merged.unmerge();
          for (const [name, bytes] of snapshot(model)) assert.ok(bytes.equals(original.get(name)!), `${name} after unmerge #${cycle + 1} is not bit for bit the original`);
        }
        assert.throws(() => { const m = mergeAdapters(model, att); mergeAdapters(model, att); m.unmerge(); }, /merged already/);
        model.dispose();
      });
    }
  });
}
