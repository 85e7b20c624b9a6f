import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig, type ModelConfigInput } from '../../common/modelConfig';
import { modelStats } from '../../common/modelStats';
import { hfUnrepresentable } from '../../common/hfConfig';
import { createModel, type AnyModel } from '../models/registry';
import { BERT } from '../models/bert/model';
import { GPT } from '../models/gpt/model';
import type { Batch } from '../models/types';
import { TEST_BACKENDS, useBackend } from '../testing';
import { attentionHeadImportance, configOf, gradientHeadImportance, headPrunedConfig, headsToRemove, keptHeads, removeHeads } from './pruneHeads';

const GPT_C: ModelConfigInput = { arch: 'gpt', vocabSize: 23, contextLength: 8, dModel: 16, nHeads: 4, nLayers: 2, initStd: 0.3 };
const BERT_C: ModelConfigInput = { arch: 'bert', vocabSize: 23, contextLength: 8, dModel: 16, nHeads: 4, nLayers: 2, dFF: 24, initStd: 0.3 };

function batchOf(arch: 'gpt' | 'bert'): Batch {
  const ids = [[1, 5, 7, 2, 9, 11, 3, 4], [6, 2, 8, 13, 0, 0, 0, 0]];
  const mask = [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0, 0]];
  return {
    inputIds: tf.tensor2d(ids, [2, 8], 'int32'),
    labels: tf.tensor2d(arch === 'gpt' ? ids.map((r) => [...r.slice(1), 1]) : ids.map((r) => r.map((t, j) => (j % 3 === 1 && t ? t : -100))), [2, 8], 'int32'),
    ...(arch === 'bert' ? { attentionMask: tf.tensor2d(mask, [2, 8], 'int32') } : {}),
  };
}

function logits(m: AnyModel, b: Batch): Float32Array {
  return tf.tidy(() => {
    const { hidden } = m.forward(b);
    return (m instanceof GPT ? m.lmLogits(hidden) : (m as BERT).mlmLogits(hidden)).dataSync() as Float32Array;
  });
}

/** The original model with the heads not in `kept` silenced: their rows (gpt) / columns (bert) of the output projection zeroed. */
function silenced(m: AnyModel, kept: number[][]): void {
  const c = m.config;
  kept.forEach((heads, i) => {
    const name = c.arch === 'gpt' ? `h.${i}.attn.c_proj.weight` : `bert.encoder.layer.${i}.attention.output.dense.weight`;
    const unit = Array.from({ length: c.attnDim }, (_, j) => (heads.includes(Math.floor(j / c.headDim)) ? 1 : 0));
    tf.tidy(() => m.params.assign(name, tf.mul(m.params.get(name), c.arch === 'gpt' ? tf.tensor2d(unit, [c.attnDim, 1]) : tf.tensor2d(unit, [1, c.attnDim]))));
  });
}

for (const backend of TEST_BACKENDS) {
  describe(`head pruning (${backend})`, () => {
    before(() => useBackend(backend));

    for (const [arch, config] of [['gpt', GPT_C], ['bert', BERT_C]] as const) {
      it(`${arch}: the pruned model's logits are the original's with the removed heads' outputs zeroed`, () => {
        const original = createModel(config, 7);
        const kept = [[0, 2, 3], [1, 2, 3]];
        const pruned = removeHeads(original, kept);
        const b = batchOf(arch);
        try {
          assert.equal(pruned.config.nHeads, 3);
          assert.equal(pruned.config.headDim, 4);
          assert.equal(pruned.config.attnDim, 12);
          assert.ok(pruned.params.count < original.params.count);
          assert.equal(pruned.params.count, modelStats(configOf(pruned.config)).parameters, 'modelStats counts the pruned shape');
          const before = logits(original, b);
          silenced(original, kept);
          const want = logits(original, b);
          const got = logits(pruned, b);
          const maxDiff = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
          assert.ok(maxDiff < 1e-4, `pruned vs silenced original: max |Δ| ${maxDiff}`);
          // and silencing changed something, so the equality above is not trivially true
          assert.ok(before.some((v, i) => Math.abs(v - want[i]) > 1e-3), 'silencing two heads changed the logits');
        } finally {
          original.dispose();
          pruned.dispose();
          tf.dispose(Object.values(b));
        }
      });
    }

    it('gradient importance matches a finite-difference estimate of the loss change when a head is scaled', () => {
      const m = createModel(GPT_C, 3);
      const b = batchOf('gpt');
      try {
        const g = gradientHeadImportance(m, [b], 'causal-lm');
        assert.equal(g.length, 2);
        assert.equal(g[0].length, 4);
        // ∂L/∂ξ for layer 1 head 2 by central differences on the c_proj rows of that head
        const name = 'h.1.attn.c_proj.weight';
        const W = m.params.get(name).clone();
        const lossAt = (scale: number) => tf.tidy(() => {
          const unit = Array.from({ length: 16 }, (_, j) => (Math.floor(j / 4) === 2 ? scale : 1));
          m.params.assign(name, tf.mul(W, tf.tensor2d(unit, [16, 1])));
          return m.loss(b, 'causal-lm').loss.dataSync()[0];
        });
        const eps = 1e-2;
        const fd = Math.abs((lossAt(1 + eps) - lossAt(1 - eps)) / (2 * eps));
        m.params.assign(name, W);
        W.dispose();
        assert.ok(Math.abs(fd - g[1][2]) < 2e-3 + 0.02 * fd, `finite difference ${fd} vs gradient ${g[1][2]}`);
        assert.ok(g.flat().some((v) => v > 0));
      } finally {
        m.dispose();
        tf.dispose(Object.values(b));
      }
    });
  });
}

describe('head pruning: choosing and describing the cut', () => {
  it('keeps the most important heads of each layer, in order', () => {
    assert.deepEqual(keptHeads([[0.1, 0.9, 0.5, 0.7], [3, 1, 2, 0]], 3), [[1, 2, 3], [0, 1, 2]]);
  });

  it('a quarter of 4 heads is 1 per layer; a share that removes none or all is refused, naming the field', () => {
    assert.equal(headsToRemove({ nHeads: 4, nLayers: 2 }, 0.25), 1);
    assert.throws(() => headsToRemove({ nHeads: 2, nLayers: 2 }, 0.1), /headShare 0.1 of 2 heads.*removes 0/);
    assert.throws(() => headsToRemove({ nHeads: 2, nLayers: 2 }, 0.9), /at most 1 per layer/);
  });

  it('the pruned config keeps the head width; HF export refuses it and says why', () => {
    const c = headPrunedConfig(ModelConfig.parse(GPT_C), 1);
    assert.deepEqual([c.nHeads, c.headDim, c.dModel], [3, 4, 16]);
    const m = createModel(c);
    try {
      const issues = hfUnrepresentable(m.config);
      assert.equal(issues.length, 1);
      assert.match(issues[0], /headDim 4 × nHeads 3 = 12 ≠ dModel 16/);
      assert.deepEqual(hfUnrepresentable(createModel(GPT_C).config), []);
    } finally {
      m.dispose();
    }
  });

  it('a config without headDim must still divide dModel by nHeads; with headDim it need not', () => {
    assert.equal(ModelConfig.safeParse({ ...GPT_C, nHeads: 3 }).success, false);
    assert.equal(ModelConfig.safeParse({ ...GPT_C, nHeads: 3, headDim: 4 }).success, true);
    assert.match(JSON.stringify(ModelConfig.safeParse({ ...GPT_C, nHeads: 3, headDim: 5, positional: 'rope' }).error?.issues), /headDim = 5 is odd/);
  });

  it('attention importance is 1 − the sink share', () => {
    const stats = { entropy: [[0, 0]], meanDistance: [[0, 0]], firstTokenShare: [[0.8, 0.1]], specialShare: [[0.2, 0.3]], previousToken: [[0, 0]], induction: null };
    const got = attentionHeadImportance(stats);
    assert.ok(Math.abs(got[0][0] - 0.2) < 1e-12 && Math.abs(got[0][1] - 0.7) < 1e-12, JSON.stringify(got));
  });
});
