import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Diagnostics } from './diagnostics';
import { groupParams, layerOf } from './layerGroups';

describe('diagnostics', () => {
  it('stops on a non-finite loss or gradient, and says why', () => {
    const d = new Diagnostics();
    assert.deepEqual(d.step(1, 2.5, 1), []);
    const [nan] = d.step(2, NaN, 1);
    assert.equal(nan.kind, 'non-finite-loss');
    assert.equal(nan.severity, 'error');
    assert.match(nan.advice, /learning rate/);
    assert.equal(d.step(3, 1, Infinity)[0].kind, 'non-finite-loss');
  });

  it('flags a gradient-norm spike against the recent median, once per cooldown', () => {
    const d = new Diagnostics({ cooldown: 50 });
    for (let s = 0; s < 30; s++) assert.deepEqual(d.step(s, 2, 1 + (s % 3) * 0.1), []);
    const [boom] = d.step(30, 2, 40);
    assert.equal(boom.kind, 'exploding-gradients');
    assert.match(boom.message, /40\.0 at step 30/);
    assert.deepEqual(d.step(31, 2, 45), [], 'quiet during the cooldown');
  });

  it('flags a layer whose gradient vanishes', () => {
    const d = new Diagnostics();
    const [v] = d.step(5, 2, 1, { 'layer.0': 1e-9, 'layer.1': 0.3, 'layer.2': 0.2, head: 0.5 });
    assert.equal(v.kind, 'vanishing-gradients');
    assert.match(v.message, /layer\.0/);
    assert.deepEqual(new Diagnostics().step(5, 2, 1, { 'layer.0': 0.1, 'layer.1': 0.3 }), []);
  });

  it('flags overfitting: validation rising while training falls over several evaluations', () => {
    const d = new Diagnostics({ overfitEvals: 3 });
    assert.deepEqual(d.evaluation(100, 2.0, 2.1), []);
    assert.deepEqual(d.evaluation(200, 1.8, 2.0), []); // both improve
    assert.deepEqual(d.evaluation(300, 1.6, 2.05), []);
    assert.deepEqual(d.evaluation(400, 1.5, 2.1), []);
    const [o] = d.evaluation(500, 1.4, 2.2);
    assert.equal(o.kind, 'overfitting');
    const calm = new Diagnostics({ overfitEvals: 3 });
    for (const [t, v] of [[2, 2.1], [1.9, 2.2], [1.8, 2.15], [1.7, 2.3], [1.6, 2.4]]) assert.deepEqual(calm.evaluation(0, t, v), []);
  });
});

describe('layer groups', () => {
  it('name GPT and BERT parameters alike', () => {
    assert.equal(layerOf('h.3.attn.c_attn.weight'), 'layer.3');
    assert.equal(layerOf('bert.encoder.layer.11.output.dense.bias'), 'layer.11');
    assert.equal(layerOf('wte.weight'), 'embeddings');
    assert.equal(layerOf('bert.embeddings.LayerNorm.weight'), 'embeddings');
    assert.equal(layerOf('ln_f.bias'), 'head');
    assert.equal(layerOf('cls.predictions.bias'), 'head');
    assert.deepEqual([...groupParams(['ln_f.weight', 'h.10.x', 'h.2.x', 'wte.weight']).keys()], ['embeddings', 'layer.2', 'layer.10', 'head']);
  });
});
