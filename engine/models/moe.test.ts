import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing';
import { createMoeParams, geluNew, gptMoePrefix, moeFeedForward, moeParamNames, moeParamSpecs, moeParamsFromNamed } from './moe';

for (const backend of TEST_BACKENDS) {
  describe(`mixture of experts (${backend})`, () => {
    before(() => useBackend(backend));

    it('creates per-expert parameters under Hugging Face style names', () => {
      const vars = createMoeParams(gptMoePrefix(3), { dModel: 8, dFF: 16, experts: 3, std: 0.02, seed: 1 });
      const shapes = Object.fromEntries(Object.entries(vars).map(([n, v]) => [n, v.shape]));
      assert.deepEqual(shapes['h.3.mlp.gate.weight'], [8, 3]);
      assert.deepEqual(shapes['h.3.mlp.experts.2.c_fc.weight'], [8, 16]);
      assert.deepEqual(shapes['h.3.mlp.experts.2.c_fc.bias'], [16]);
      assert.deepEqual(shapes['h.3.mlp.experts.0.c_proj.weight'], [16, 8]);
      assert.deepEqual(shapes['h.3.mlp.experts.0.c_proj.bias'], [8]);
      assert.equal(Object.keys(vars).length, 1 + 4 * 3);
      const specs = moeParamSpecs('h.3.mlp', { dModel: 8, dFF: 16, experts: 3 });
      assert.deepEqual(specs.map((sp) => sp.name).sort(), Object.keys(vars).sort());
      assert.deepEqual(specs.filter((sp) => sp.decay).map((sp) => sp.shape.length), Array(1 + 2 * 3).fill(2), 'matrices decay, biases do not');
      // a second block under the same prefix (a teacher beside a student) is allowed
      tf.dispose(Object.values(createMoeParams(gptMoePrefix(3), { dModel: 8, dFF: 16, experts: 3, std: 0.02 })));
      assert.deepEqual(moeParamNames('h.3.mlp', 3).experts[1].w2, 'h.3.mlp.experts.1.c_proj.weight');
      const { ['h.3.mlp.experts.1.c_fc.bias']: missing, ...rest } = vars;
      assert.throws(() => moeParamsFromNamed(rest, 'h.3.mlp', 3), /'h\.3\.mlp\.experts\.1\.c_fc\.bias' is missing/);
      tf.dispose([missing, ...Object.values(rest)]);
    });

    it('trains through the named variables: every parameter gets a gradient, nothing leaks', () => {
      const vars = createMoeParams('h.0.mlp', { dModel: 8, dFF: 16, experts: 4, std: 0.5, seed: 2 });
      const x = tf.randomNormal([10, 8], 0, 1, 'float32', 3);
      const start = tf.memory().numTensors;
      const { value, grads: byVarName } = tf.variableGrads(() => {
        const r = moeFeedForward(x, moeParamsFromNamed(vars, 'h.0.mlp', 4), { topK: 2 });
        return tf.add(tf.sum(tf.square(r.y)), r.auxLoss) as tf.Scalar;
      }, Object.values(vars));
      const grads = Object.fromEntries(Object.entries(vars).map(([n, v]) => [n, byVarName[v.name]]));
      assert.deepEqual(Object.keys(grads).sort(), Object.keys(vars).sort());
      for (const [n, g] of Object.entries(grads)) assert.deepEqual(g.shape, vars[n].shape, n);
      assert.ok(tf.tidy(() => tf.sum(tf.abs(grads['h.0.mlp.gate.weight'])).dataSync()[0]) > 0, 'the router learns');
      tf.dispose([value, ...Object.values(grads)]);
      assert.equal(tf.memory().numTensors, start);
      tf.dispose([x, ...Object.values(vars)]);
    });

    it('a uniform router gives the balanced aux loss K; with K = E the gates are the router probabilities', () => {
      tf.tidy(() => {
        const [N, d, ff, E] = [7, 6, 10, 3];
        const base = {
          w1: tf.randomNormal([E, d, ff], 0, 0.3, 'float32', 4), b1: tf.zeros([E, ff]),
          w2: tf.randomNormal([E, ff, d], 0, 0.3, 'float32', 5), b2: tf.zeros([E, d]),
        };
        const x = tf.randomNormal([N, d], 0, 1, 'float32', 6);
        for (const K of [1, 2, 3]) {
          const r = moeFeedForward(x, { wGate: tf.zeros([d, E]), ...base }, { topK: K });
          assert.ok(Math.abs(r.auxLoss.dataSync()[0] - K) < 1e-6, `K ${K}: aux ${r.auxLoss.dataSync()[0]}`);
        }
        const wGate = tf.randomNormal([d, E], 0, 1, 'float32', 7);
        const r = moeFeedForward(x, { wGate, ...base }, { topK: E });
        const sortedProbs = tf.topk(r.routerProbs, E).values;
        assert.ok(tf.max(tf.abs(tf.sub(r.gates, sortedProbs))).dataSync()[0] < 1e-6);
        // y = Σ_e p_e expert_e(x), computed expert by expert
        let y = tf.zeros([N, d]);
        for (let e = 0; e < E; e++) {
          const h = geluNew(tf.matMul(x, tf.squeeze(tf.slice(base.w1, [e, 0, 0], [1, -1, -1]), [0])));
          const o = tf.matMul(h, tf.squeeze(tf.slice(base.w2, [e, 0, 0], [1, -1, -1]), [0]));
          y = tf.add(y, tf.mul(o, tf.slice(r.routerProbs, [0, e], [-1, 1])));
        }
        assert.ok(tf.max(tf.abs(tf.sub(r.y, y))).dataSync()[0] < 1e-5);
      });
    });

    it('refuses topK above the number of experts, naming both', () => {
      tf.tidy(() => {
        const p = { wGate: tf.zeros([4, 2]), w1: tf.zeros([2, 4, 8]), b1: tf.zeros([2, 8]), w2: tf.zeros([2, 8, 4]), b2: tf.zeros([2, 4]) };
        assert.throws(() => moeFeedForward(tf.zeros([3, 4]), p, { topK: 3 }), /topK 3 .* 1 … 2/);
      });
    });
  });
}
