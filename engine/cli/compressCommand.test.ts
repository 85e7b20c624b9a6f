/**
 * `workbench compress` as a user meets it (real processes on a tiny trained GPT): int8 in one pass and QAT
 * with its int8 variant, each ending in a summary line that names the variant, its bytes against the base's
 * and both measured on the base's held-out data; bad settings refused naming the flag or the field.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TINY_GPT, tinyRun } from '../inspect/tinyRuns.testing';
import { useBackend } from '../testing';
import { compressSettings, type CompressSummary } from './compressCommand';

const BIN = path.resolve(import.meta.dirname, '../../bin/workbench.js');
let tmp: string;
let gpt: string;

const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, 'compress', ...args], { encoding: 'utf8', cwd: tmp, env: { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache') } });
const summaryOf = (stdout: string): CompressSummary => JSON.parse(stdout.trim().split('\n').at(-1)!);

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compress-cli-'));
  gpt = await tinyRun(path.join(tmp, 'gpt'), TINY_GPT);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('workbench compress', () => {
  it('--method int8: a variant beside the base, with its bytes, the base\'s and the quality figures of both (TF.js and ONNX Runtime)', () => {
    const r = cli(gpt, '--method', 'int8', '--activations', 'static', '--calibration-batches', '2', '--json');
    assert.equal(r.status, 0, r.stderr);
    const s = summaryOf(r.stdout);
    assert.equal(s.status, 'completed');
    assert.equal(path.dirname(s.variant_dir!), path.dirname(gpt));
    assert.ok(fs.existsSync(path.join(s.variant_dir!, 'run.json')));
    assert.ok(s.bytes! > 0 && s.bytes! < s.base_bytes! / 2, `${s.bytes} vs ${s.base_bytes}`);
    for (const v of [s.base!.val_loss, s.variant!.val_loss, s.base!.perplexity, s.variant!.perplexity, s.onnx_int8!.lm_loss]) assert.ok(Number.isFinite(v) && v > 0);
    assert.deepEqual(s.kept_float!.map((k) => k.name), ['wpe.weight']);
    const human = cli(gpt, '--method', 'int8', '--keep-float', 'wte.weight', '--keep-float', 'wpe.weight');
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /int8 variant written to .*\n {2}weights on disk: \d+ bytes \(base \d+, [\d.]+× smaller\)\n {2}validation loss/);
    assert.match(human.stderr, /wte\.weight \(keepFloat 'wte\.weight'\)/);
  });

  it('--method qat: trains with progress, then writes its int8 variant; the summary names both', () => {
    const r = cli(gpt, '--method', 'qat', '--steps', '3', '--batch-size', '4', '--config', '{"loop": {"evalBatches": 1, "evalInterval": 3}, "measure": {"batchSize": 4, "evalBatches": 1}}', '--json');
    assert.equal(r.status, 0, r.stderr);
    const s = summaryOf(r.stdout);
    assert.equal(s.status, 'completed');
    assert.equal(s.training!.steps, 3);
    assert.ok(s.qat_run_dir && fs.existsSync(path.join(s.qat_run_dir, 'metrics.jsonl')));
    assert.notEqual(s.variant_dir, s.qat_run_dir);
    assert.equal(s.base!.run_dir, gpt, 'measured beside the original base');
    assert.ok(s.bytes! < s.base_bytes! / 2);
    assert.ok(r.stdout.split('\n').some((l) => l.includes('"type":"step"')), 'training progress as JSON lines');
  });

  it('bad settings are refused naming the flag or the field', () => {
    const steps = cli(gpt, '--method', 'int8', '--steps', '3');
    assert.equal(steps.status, 2);
    assert.match(steps.stderr, /--steps applies to --method qat, distill or prune, not int8/);
    const unknown = cli(gpt, '--method', 'int8', '--bogus', '1');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /--bogus/);
    const field = cli(gpt, '--method', 'int8', '--config', '{"activations": {"observer": "median"}}', '--json');
    assert.equal(field.status, 1);
    const s = summaryOf(field.stdout);
    assert.equal(s.status, 'failed');
    assert.deepEqual(s.error!.path, ['compress', 'activations', 'observer']);
    const method = cli(gpt, '--method', 'zip');
    assert.equal(method.status, 2);
    assert.match(method.stderr, /--method int8\|qat\|distill\|prune, not 'zip'/);
  });

  it('the shortcut flags map onto the schema\'s fields; --steps brings a warmup of a tenth unless one is given', () => {
    assert.deepEqual(compressSettings('qat', '{"loop": {"seed": 3}}', { steps: '50', activations: 'static', lr: '3e-4' }), {
      method: 'qat', loop: { seed: 3, steps: 50, optimizer: { lr: 3e-4 }, schedule: { warmupSteps: 5 } }, activations: { mode: 'static' },
    });
    assert.deepEqual(compressSettings('distill', undefined, { 'student-layers': '2', temperature: '4' }), { method: 'distill', student: { nLayers: 2 }, temperature: 4 });
    assert.deepEqual(compressSettings('prune', undefined, { prune: 'magnitude', sparsity: '0.5' }), { method: 'prune', kind: 'magnitude', sparsity: 0.5 });
    assert.throws(() => compressSettings('int8', '{"method": "qat"}', {}), /--config says method "qat" but --method is int8/);
  });
});
