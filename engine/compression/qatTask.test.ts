/**
 * QAT on a tiny trained GPT: it trains through the fake quantization (the float weights move), its
 * evaluations are the int8 model's (the int8 variant written from it measures the very same validation
 * loss on the same batches), and with static activations the scales it calibrated are kept and reused.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tinyRun, TINY_GPT } from '../inspect/tinyRuns.testing';
import { loadRunModel } from '../runs/loadRunModel';
import { readMetrics } from '../runs/metricsLog';
import { resolveDerivedRun } from '../training/derivedRun';
import { Trainer } from '../training/trainer';
import { useBackend } from '../testing';
import { ACTIVATION_SCALES_FILE, readScalesFile } from './calibrate';
import type { QatRunConfig } from './qatTask';
import { writeQatInt8Variant } from './qatVariant';

let tmp: string;
let gpt: string;

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qat-'));
  gpt = await tinyRun(path.join(tmp, 'gpt'), TINY_GPT);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function qat(activations: object): Promise<{ config: QatRunConfig; runDir: string }> {
  const config = await resolveDerivedRun({
    task: 'compress', baseRunDir: gpt, baseCheckpoint: 'last',
    settings: { method: 'qat', activations, measure: { batchSize: 4, evalBatches: 2 }, loop: { steps: 4, batchSize: 4, evalBatches: 2, evalInterval: 2, schedule: { warmupSteps: 1, minLr: 1e-5 }, optimizer: { lr: 1e-2 } } },
  }) as QatRunConfig;
  const trainer = await Trainer.startDerived(config, path.dirname(gpt), 'qat', { cacheDir: null });
  const summary = await trainer.run();
  assert.equal(summary.status, 'completed', JSON.stringify(summary.error));
  return { config, runDir: trainer.runDir };
}

describe('quantization-aware training', () => {
  it('dynamic: the weights train through the rounding, and the int8 variant of the result measures exactly the QAT run\'s last validation loss', async () => {
    const { config, runDir } = await qat({ mode: 'dynamic' });
    const base = await loadRunModel(gpt, 'last');
    const trained = await loadRunModel(runDir, 'last');
    try {
      const moved = ['h.0.attn.c_attn.weight', 'wte.weight'].map((n) => {
        const a = base.model.params.get(n).dataSync();
        const b = trained.model.params.get(n).dataSync();
        return a.some((v, i) => v !== b[i]);
      });
      assert.deepEqual(moved, [true, true], 'gradients reach the float weights through the fake quantization');
    } finally {
      base.model.dispose();
      trained.model.dispose();
    }
    const { records } = await readMetrics(runDir);
    const lastVal = records.filter((r) => 'val/loss' in r.scalars).at(-1)!.scalars['val/loss'];
    const r = await writeQatInt8Variant(runDir, config, path.dirname(gpt), 'qat int8', { cacheDir: null });
    assert.equal(r.quality.variant.loss, lastVal, 'the QAT forward is the int8 model\'s');
    assert.equal(r.quality.baseRun.runDir, gpt, 'set beside the QAT run\'s own base');
    assert.ok(r.bytes < r.baseBytes / 2);
  });

  it('a stopped QAT run resumes from its checkpoint with the scales it started with, and completes', async () => {
    const config = await resolveDerivedRun({
      task: 'compress', baseRunDir: gpt, baseCheckpoint: 'last',
      settings: { method: 'qat', activations: { mode: 'static', calibrationBatches: 1 }, loop: { steps: 4, batchSize: 4, evalBatches: 1, evalInterval: 2, schedule: { warmupSteps: 1 } } },
    }) as QatRunConfig;
    let trainer: Trainer | undefined;
    trainer = await Trainer.startDerived(config, path.join(tmp, 'resumed'), 'qat', { cacheDir: null, onEvent: (e) => { if (e.type === 'step' && e.step === 2) trainer?.stop(); } });
    assert.equal((await trainer.run()).status, 'cancelled');
    const scales = await readScalesFile(trainer.runDir);
    const resumed = await Trainer.resume(trainer.runDir, { cacheDir: null });
    const summary = await resumed.run();
    assert.equal(summary.status, 'completed', JSON.stringify(summary.error));
    assert.equal(summary.steps, 4);
    assert.deepEqual(await readScalesFile(trainer.runDir), scales);
  });

  it('static: ranges calibrated once at the start are kept in the run and reused by its int8 variant', async () => {
    const { config, runDir } = await qat({ mode: 'static', calibrationBatches: 2 });
    const scales = await readScalesFile(runDir);
    assert.ok(scales && scales['h.0.attn.c_attn'] > 0 && scales['h.1.mlp.c_proj'] > 0, `${ACTIVATION_SCALES_FILE}: ${JSON.stringify(scales)}`);
    const r = await writeQatInt8Variant(runDir, config, path.join(tmp, 'variants'), 'qat int8 static', { cacheDir: null });
    const rm = await loadRunModel(r.runDir, 'last');
    try {
      assert.deepEqual(rm.quantization?.activationScales, scales);
    } finally {
      rm.model.dispose();
    }
  });
});
