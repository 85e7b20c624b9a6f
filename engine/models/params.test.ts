/**
 * The weight view and added parameters (params.ts): what LoRA, fake quantization and pruning masks stand on.
 * A view must change what the forward pass computes, hand its gradients to the variables it reads (an added
 * parameter included), and leave the stored weights alone; removing it restores the model exactly.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing';
import { createModel } from './registry';

const cfg = { arch: 'gpt', vocabSize: 12, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 1 } as const;
const target = 'h.0.mlp.c_fc.weight'; // [d, 4d], GPT-2's Conv1D layout

for (const backend of TEST_BACKENDS) {
  describe(`ParamStore view and added parameters on ${backend}`, () => {
    it('a view changes the forward pass, passes gradients to an added parameter, and comes off exactly', async () => {
      await useBackend(backend);
      const model = createModel(cfg, 3);
      const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
      const plain = model.forward({ inputIds: ids }).hidden.arraySync();
      const stored = model.params.get(target).arraySync();

      const [din, dout] = model.params.get(target).shape;
      const delta = tf.variable(tf.fill([din, dout], 0.5), true);
      model.params.add({ name: `${target}.delta`, shape: [din, dout], init: 'zeros', decay: false }, delta);
      model.params.setView((name, v) => (name === target ? tf.add(v, model.params.get(`${target}.delta`)) : v));

      const viewed = model.forward({ inputIds: ids }).hidden.arraySync() as number[][][];
      assert.notDeepEqual(viewed, plain, 'the view must change the hidden states');
      // a plain sum of LayerNorm'd features is constant; weigh each feature differently
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.forward({ inputIds: ids }).hidden, tf.range(0, cfg.dModel))) as tf.Scalar, [delta]);
      assert.ok(grads[delta.name], 'the added parameter gets a gradient through the view');
      assert.ok(Math.max(...Array.from(grads[delta.name].dataSync()).map(Math.abs)) > 0, 'and it is not zero');
      assert.deepEqual(model.params.get(target).arraySync(), stored, 'the stored weight is untouched');
      assert.ok(model.params.names.includes(`${target}.delta`), 'the added parameter is listed with the others');

      model.params.setView(null);
      assert.deepEqual(model.forward({ inputIds: ids }).hidden.arraySync(), plain, 'without the view the model computes as before, bit for bit');
      assert.throws(() => model.params.add({ name: target, shape: [din, dout], init: 'zeros', decay: false }, tf.variable(tf.zeros([din, dout]))), /duplicate parameter name/);
      assert.throws(() => model.params.add({ name: 'x', shape: [2], init: 'zeros', decay: false }, tf.variable(tf.zeros([3]))), /declared \[2\] but its value is \[3\]/);
      model.dispose();
    });
  });
}
