/**
 * Every option of the config builds, trains and hands back well-formed attention maps, on cpu and wasm.
 * (The exact numerics of each piece are proved against PyTorch in engine/golden/.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfigInput } from '../../common/modelConfig';
import { AdamW } from '../training/adamw';
import { trainStep } from '../training/trainStep';
import { TEST_BACKENDS, useBackend } from '../testing';
import { Rng } from '../util/random';
import { createModel } from './registry';
import type { Batch } from './types';

const B = 3;
const T = 10;
const V = 20;
const small = { vocabSize: V, contextLength: 16, dModel: 16, nHeads: 4, nLayers: 2 };
const VARIANTS: ModelConfigInput[] = [
  { arch: 'gpt', ...small, positional: 'rope' },
  { arch: 'gpt', ...small, positional: 'sinusoidal' },
  { arch: 'gpt', ...small, attention: 'linear' },
  { arch: 'bert', ...small, positional: 'rope' },
  { arch: 'bert', ...small, attention: 'linear', positional: 'sinusoidal' },
  { arch: 'gpt', ...small, moe: { experts: 4, topK: 2 } },
  { arch: 'bert', ...small, moe: { experts: 3, topK: 1, auxLossWeight: 0.1 } },
];

function batchFor(arch: 'gpt' | 'bert', rng: Rng): Batch {
  const ids = Array.from({ length: B * T }, () => 5 + rng.int(V - 5));
  const mask = Array.from({ length: B * T }, (_, i) => (i >= 2 * T + 7 ? 0 : 1)); // last 3 tokens of row 2 are padding
  if (arch === 'gpt') {
    return { inputIds: tf.tensor2d(ids, [B, T], 'int32'), labels: tf.tensor2d(ids.map((x) => (x + 1) % V), [B, T], 'int32'), attentionMask: tf.tensor2d(mask, [B, T], 'int32') };
  }
  const labels = ids.map((x, i) => (i % 4 === 1 && mask[i] ? x : -100));
  return {
    inputIds: tf.tensor2d(ids.map((x, i) => (i % 4 === 1 ? 4 : x)), [B, T], 'int32'),
    labels: tf.tensor2d(labels, [B, T], 'int32'),
    attentionMask: tf.tensor2d(mask, [B, T], 'int32'),
    nextSentenceLabels: tf.tensor1d([0, 1, 0], 'int32'),
  };
}

for (const backend of TEST_BACKENDS) {
  describe(`model variants on ${backend}`, () => {
    for (const cfg of VARIANTS) {
      it(`${cfg.arch} ${cfg.positional ?? 'learned'} ${cfg.attention ?? 'softmax'}${cfg.moe ? ` moe ${cfg.moe.experts}/${cfg.moe.topK}` : ''}`, async () => {
        await useBackend(backend);
        const model = createModel(cfg, 2);
        const rng = new Rng(9);
        const batch = batchFor(cfg.arch, rng);
        tf.tidy(() => {
          const { attentions } = model.forward(batch, { returnAttentions: true });
          assert.equal(attentions!.length, cfg.nLayers);
          const p = attentions![0].arraySync() as number[][][][]; // [B, H, T, T]
          for (let b = 0; b < B; b++) {
            for (let i = 0; i < T; i++) {
              const row = p[b][1][i];
              assert.ok(Math.abs(row.reduce((a, x) => a + x, 0) - 1) < 1e-4, 'each query distributes weight 1');
              if (cfg.arch === 'gpt') for (let j = i + 1; j < T; j++) assert.ok(row[j] < 1e-6, 'no weight on future positions');
              if (b === 2) for (let j = 7; j < T; j++) assert.ok(row[j] < 1e-6, `no weight on padding (${i}→${j}: ${row[j]})`);
            }
          }
        });
        if (cfg.moe) {
          tf.tidy(() => {
            const { loss, parts } = model.loss(batch);
            assert.ok(parts.aux, 'the load-balancing loss is reported');
            const task = cfg.arch === 'gpt' ? parts.lm : tf.add(parts.mlm, parts.nsp);
            const expected = task.dataSync()[0] + model.config.moe!.auxLossWeight * parts.aux.dataSync()[0];
            assert.ok(Math.abs(loss.dataSync()[0] - expected) < 1e-5, 'loss = task loss + auxLossWeight × aux');
          });
        }
        const opt = new AdamW(Object.fromEntries(model.variables), { lr: 1e-2 });
        const first = trainStep(model, opt, batch, { lr: 1e-2, clipNorm: 1 });
        assert.ok(Number.isFinite(first.loss) && first.gradNorm > 0);
        let last = first;
        for (let i = 0; i < 15; i++) last = trainStep(model, opt, batch, { lr: 1e-2, clipNorm: 1 });
        assert.ok(last.loss < first.loss, `loss ${first.loss} → ${last.loss} falls when fitting one batch`);
        opt.dispose();
        model.dispose();
        tf.dispose(Object.values(batch));
      });
    }
  });
}
