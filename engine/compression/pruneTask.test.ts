/** Pruning runs end to end on tiny runs: magnitude masks that hold and resume; heads scored, removed and measured. */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { latestValidCheckpoint, listCheckpoints, loadCheckpoint } from '../runs/checkpoint';
import { loadRunModel } from '../runs/loadRunModel';
import { readMetrics } from '../runs/metricsLog';
import { TINY_GPT, tinyRun } from '../inspect/tinyRuns.testing';
import { resolveDerivedRun } from '../training/derivedRun';
import { Trainer } from '../training/trainer';
import { useBackend } from '../testing';
import { cubicSparsity, magnitudeMask } from './pruneMagnitude';
import { HeadPruningFile, MagnitudePruningFile, PRUNING_FILE } from '../../common/compressionFiles';

describe('magnitude pruning pieces', () => {
  it('the cubic schedule rises fast, then flattens at the target', () => {
    assert.equal(cubicSparsity(0, 100, 0.5, 0.5), 0);
    assert.ok(Math.abs(cubicSparsity(25, 100, 0.5, 0.5) - 0.5 * (1 - 0.5 ** 3)) < 1e-12);
    assert.equal(cubicSparsity(50, 100, 0.5, 0.5), 0.5);
    assert.equal(cubicSparsity(90, 100, 0.5, 0.5), 0.5);
  });

  it('masks exactly round(s·n) weights, the smallest in magnitude', () => {
    assert.deepEqual(Array.from(magnitudeMask(Float32Array.from([0.3, -0.1, 2, -0.05, 0.2]), 0.4)), [1, 0, 1, 0, 1]);
    assert.deepEqual(Array.from(magnitudeMask(Float32Array.from([1, 1, 1]), 0.34)), [0, 1, 1], 'ties: the lower index goes first');
  });
});

describe('pruning runs', () => {
  let tmp: string;
  let baseDir: string;
  before(async () => {
    await useBackend('cpu');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-prune-'));
    baseDir = await tinyRun(path.join(tmp, 'base'), { ...TINY_GPT, nHeads: 4 }, { pretrain: { steps: 8, evalInterval: 4 } });
  });

  const loop = { steps: 6, batchSize: 2, evalInterval: 3, evalBatches: 1, checkpointInterval: 100, schedule: { warmupSteps: 1 } };

  async function prune(name: string, settings: object, stopAt?: number) {
    const config = await resolveDerivedRun({ task: 'compress', baseRunDir: baseDir, baseCheckpoint: 'last', settings: { method: 'prune', loop, ...settings } });
    const t = await Trainer.startDerived(config, path.join(tmp, 'runs'), name, { cacheDir: null, backend: 'cpu', onEvent: (e) => { if (stopAt && e.type === 'step' && e.step === stopAt) t.stop(); } });
    return { summary: await t.run(), config };
  }

  const magnitude = { kind: 'magnitude', sparsity: 0.5, ramp: 0.5, maskEvery: 2 };

  it('magnitude: the block matrices reach the target sparsity, the zeros hold after every step, sparsity is logged per layer', async () => {
    const { summary } = await prune('magnitude', { ...magnitude, loop: { ...loop, checkpointInterval: 2, keepCheckpoints: 3 } });
    assert.equal(summary.status, 'completed');
    const ck = await latestValidCheckpoint(summary.run_dir);
    const c = ck!.params.get('h.1.mlp.c_fc.weight')!;
    // a weight pruned at step 4 is still exactly zero after the updates of steps 5 and 6
    const at4 = await loadCheckpoint((await listCheckpoints(summary.run_dir)).find((k) => k.step === 4)!.dir);
    const w4 = at4.params.get('h.1.mlp.c_fc.weight')!.data;
    assert.ok(w4.some((v) => v === 0) && w4.every((v, i) => v !== 0 || c.data[i] === 0), 'the zeros of step 4 hold at step 6');
    const zeros = c.data.filter((v) => v === 0).length;
    assert.equal(zeros, Math.round(0.5 * c.data.length), 'exactly half of the matrix is zero in the final checkpoint');
    assert.equal(ck!.params.get('wte.weight')!.data.filter((v) => v === 0).length, 0, 'embeddings are not pruned');
    const { records } = await readMetrics(summary.run_dir);
    const s = records.map((r) => r.scalars['prune/sparsity']);
    assert.ok(s.every((v, i) => i === 0 || v >= s[i - 1] - 1e-12), `sparsity only grows: ${s}`);
    assert.ok(Math.abs(s.at(-1)! - 0.5) < 0.01 && records.at(-1)!.scalars['prune/sparsity/layer.0'] > 0.49, JSON.stringify(records.at(-1)!.scalars));
    const file = MagnitudePruningFile.parse(JSON.parse(fs.readFileSync(path.join(summary.run_dir, PRUNING_FILE), 'utf8')));
    assert.equal(file.kind, 'magnitude');
    assert.ok(Math.abs(file.sparsity - 0.5) < 0.01);
  });

  it('magnitude: a stopped run resumes to exactly the uninterrupted one', async () => {
    const whole = await prune('mag-whole', magnitude);
    const part = await prune('mag-part', magnitude, 3);
    assert.equal(part.summary.status, 'cancelled');
    const done = await (await Trainer.resume(part.summary.run_dir, { cacheDir: null, backend: 'cpu' })).run();
    assert.equal(done.status, 'completed');
    const a = await latestValidCheckpoint(whole.summary.run_dir);
    const b = await latestValidCheckpoint(part.summary.run_dir);
    for (const [name, t] of a!.params) assert.deepEqual(b!.params.get(name)!.data, t.data, `${name} equals the uninterrupted run's`);
  });

  for (const importance of ['gradient', 'attention'] as const) {
    it(`heads (${importance}): a quarter of the heads removed from every layer, importance written, fewer parameters, the run opens`, async () => {
      const { summary, config } = await prune(`heads-${importance}`, { kind: 'heads', headShare: 0.25, importance });
      assert.equal(summary.status, 'completed');
      assert.deepEqual([config.model.nHeads, config.model.headDim], [3, 4]);
      const file = HeadPruningFile.parse(JSON.parse(fs.readFileSync(path.join(summary.run_dir, PRUNING_FILE), 'utf8')));
      assert.equal(file.importance.method, importance);
      assert.equal(file.importance.scores.length, 2);
      assert.ok(file.importance.scores.every((row) => row.length === 4 && row.every(Number.isFinite)));
      assert.ok(file.removed.every((row, i) => row.length === 1 && file.importance.scores[i][row[0]] <= Math.min(...file.kept[i].map((h) => file.importance.scores[i][h]))), 'the least important head of each layer goes');
      assert.ok(file.afterCut.parameters < file.before.parameters);
      assert.ok(file.before.latency.medianMs > 0 && file.afterCut.latency.medianMs > 0);
      assert.ok(Number.isFinite(file.afterCut.val.loss));
      const rm = await loadRunModel(summary.run_dir);
      try {
        assert.equal(rm.model.params.count, file.afterCut.parameters);
        assert.equal(rm.model.params.get('h.0.attn.c_attn.weight').shape[1], 3 * 3 * 4);
      } finally {
        rm.model.dispose();
      }
    });
  }

  it('heads: a share that removes no head is refused before a run folder exists, naming the field', async () => {
    await assert.rejects(resolveDerivedRun({ task: 'compress', baseRunDir: baseDir, baseCheckpoint: 'last', settings: { method: 'prune', kind: 'heads', headShare: 0.1 } }), /headShare 0.1 of 4 heads per layer removes 0/);
  });
});
