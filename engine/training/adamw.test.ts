import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing';
import { AdamW } from './adamw';

function params(seed: number): Record<string, tf.Variable> {
  return {
    'h.0.mlp.c_fc.weight': tf.variable(tf.randomNormal([6, 5], 0, 1, 'float32', seed)),
    'h.0.mlp.c_fc.bias': tf.variable(tf.randomNormal([5], 0, 1, 'float32', seed + 1)),
    'ln_f.weight': tf.variable(tf.ones([5])),
  };
}

const gradsFor = (p: Record<string, tf.Variable>, step: number) =>
  Object.fromEntries(Object.entries(p).map(([n, v], i) => [n, tf.randomNormal(v.shape, 0, 1, 'float32', 100 * step + i)]));

for (const backend of TEST_BACKENDS) {
  describe(`AdamW (${backend})`, () => {
    before(() => useBackend(backend));

    it('decays matrices only by default: a bias and a LayerNorm weight are untouched by decay', () => {
      const p = params(1);
      const opt = new AdamW(p, { lr: 0.1, weightDecay: 0.5 });
      assert.equal(opt.decays('h.0.mlp.c_fc.weight'), true);
      assert.equal(opt.decays('h.0.mlp.c_fc.bias'), false);
      assert.equal(opt.decays('ln_f.weight'), false);
      // zero gradients: Adam's step is 0/(0+eps) = 0, so only decay can move a parameter
      const zeros = Object.fromEntries(Object.entries(p).map(([n, v]) => [n, tf.zerosLike(v)]));
      const before = Object.fromEntries(Object.entries(p).map(([n, v]) => [n, Array.from(v.dataSync())]));
      opt.step(zeros);
      assert.deepEqual(Array.from(p['ln_f.weight'].dataSync()), before['ln_f.weight']);
      assert.deepEqual(Array.from(p['h.0.mlp.c_fc.bias'].dataSync()), before['h.0.mlp.c_fc.bias']);
      const w = p['h.0.mlp.c_fc.weight'].dataSync();
      before['h.0.mlp.c_fc.weight'].forEach((b, i) => assert.ok(Math.abs(w[i] - b * 0.95) < 1e-6));
      tf.dispose(Object.values(zeros));
      opt.dispose();
      tf.dispose(Object.values(p));
    });

    it('leaks no tensor over 50 steps', () => {
      const p = params(2);
      const before = tf.memory().numTensors;
      const opt = new AdamW(p, { lr: 1e-2, weightDecay: 0.1 });
      assert.equal(tf.memory().numTensors, before + 2 * Object.keys(p).length, 'construction holds m and v only');
      const start = tf.memory().numTensors;
      for (let step = 0; step < 50; step++) {
        const g = gradsFor(p, step);
        opt.step(g, 1e-2 * (1 - step / 50));
        tf.dispose(Object.values(g));
        assert.equal(tf.memory().numTensors, start, `tensor count after step ${step + 1}`);
      }
      assert.equal(opt.stepCount, 50);
      opt.dispose();
      assert.equal(tf.memory().numTensors, before);
      tf.dispose(Object.values(p));
    });

    it('resumes from exported state exactly as if it had never stopped', async () => {
      const a = params(3);
      const b = params(3);
      const optA = new AdamW(a, { lr: 1e-2, beta2: 0.95, weightDecay: 0.1 });
      for (let step = 0; step < 5; step++) { const g = gradsFor(a, step); optA.step(g); tf.dispose(Object.values(g)); }
      // the checkpoint: parameters and optimizer state as plain data
      const state = await optA.exportState();
      for (const [n, v] of Object.entries(a)) b[n].assign(tf.tensor(v.dataSync(), v.shape));
      const optB = new AdamW(b, { lr: 1e-2, beta2: 0.95, weightDecay: 0.1 });
      optB.importState(structuredClone(state));
      assert.equal(optB.stepCount, 5);
      for (let step = 5; step < 8; step++) {
        for (const [p, opt] of [[a, optA], [b, optB]] as const) { const g = gradsFor(p, step); opt.step(g); tf.dispose(Object.values(g)); }
      }
      for (const n of Object.keys(a)) assert.deepEqual(Array.from(b[n].dataSync()), Array.from(a[n].dataSync()), n);
      optA.dispose(); optB.dispose();
      tf.dispose([...Object.values(a), ...Object.values(b)]);
    });

    it('refuses state and gradients that do not fit, naming the parameter', async () => {
      const p = params(4);
      const opt = new AdamW(p);
      const state = await opt.exportState();
      state.m['ln_f.weight'] = { shape: [4], data: new Float32Array(4) };
      assert.throws(() => opt.importState(state), /'ln_f\.weight'/);
      const g = tf.zeros([3]);
      assert.throws(() => opt.step({ 'ln_f.weight': g }), /'ln_f\.weight'.*\[3\]/);
      assert.throws(() => opt.step({ nope: g }), /no parameter named 'nope'/);
      g.dispose();
      opt.dispose();
      tf.dispose(Object.values(p));
    });
  });
}
