/**
 * Cross-check of `npm run test:cross` (needs Debian's python3-torch and python3-onnx; not part of `npm test`):
 * bundles exported from a trained GPT and a trained BERT (mlm-nsp: BertForPreTraining) run
 *  - through an independent PyTorch implementation that reads only the bundle's config.json and
 *    model.safetensors (tools/bundle_reference.py), which reproduces the engine's logits within 1e-4
 *    relative on the export probe (full context, a padded row, BERT's segment B); logits off by 1 % fail;
 *  - through ONNX's checker (tools/onnx_check.py), which accepts both ONNX files of each; a cut file fails.
 *
 *   node --import tsx --test engine/export/bundleReference.cross.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { loadRunModel } from '../runs/loadRunModel';
import { useBackend } from '../testing';
import { bundleRuns } from './bundleRuns.testing';
import { exportBundle } from './exportBundle';
import { engineLogits, makeProbe } from './probe';

const root = path.resolve(import.meta.dirname, '../..');
const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
let tmp: string;
const bundles: Record<'gpt' | 'bert', string> = { gpt: '', bert: '' };

before(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-cross-'));
  const { gpt: gptRun, bert: bertRun } = await bundleRuns(tmp, {
    gpt: () => tinyRun(path.join(tmp, 'gpt'), { ...TINY_GPT, contextLength: 64, dModel: 32, nHeads: 4 }, { pretrain: { steps: 30, evalInterval: 15 } }),
    bert: () => tinyRun(path.join(tmp, 'bert'), { ...TINY_BERT, contextLength: 48, dModel: 32, nHeads: 4, dFF: 64 }, { tokenizer: tinyBertTokenizer, pretrain: { steps: 30, evalInterval: 15, objective: 'mlm-nsp' } }),
  });
  for (const [name, run] of [['gpt', gptRun], ['bert', bertRun]] as const) {
    bundles[name] = path.join(tmp, 'bundles', name);
    await exportBundle(run, 'last', bundles[name]);
    const rm = await loadRunModel(run, 'last');
    try {
      const p = makeProbe(rm.model.config);
      const rows = (v: ArrayLike<number>, width: number) => Array.from({ length: p.batch }, (_, b) => Array.from(v).slice(b * width, (b + 1) * width));
      const logits = engineLogits(rm.model, p);
      const V = rm.model.config.vocabSize;
      fs.writeFileSync(path.join(tmp, `${name}-probe.json`), JSON.stringify({
        input_ids: rows(p.inputIds, p.length), attention_mask: rows(p.attentionMask, p.length), token_type_ids: rows(p.tokenTypeIds, p.length),
        logits: rows(logits, p.length * V).map((r) => Array.from({ length: p.length }, (_, t) => r.slice(t * V, (t + 1) * V))),
      }));
    } finally {
      rm.model.dispose();
    }
  }
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function python(script: string, args: string[]): { status: number; lines: Record<string, unknown>[]; stderr: string } {
  const r = spawnSync(PYTHON, [path.join(root, 'tools', script), ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`${PYTHON} could not be run (${r.error.message}); test:cross needs python3-torch and python3-onnx`);
  const lines = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  if (!lines.length) throw new Error(`${script} printed no result:\n${r.stderr}`);
  for (const l of lines) process.stdout.write(`# ${JSON.stringify(l)}\n`);
  return { status: r.status ?? -1, lines, stderr: r.stderr };
}

describe('exported bundles outside the workbench', () => {
  for (const name of ['gpt', 'bert'] as const) {
    it(`${name}: PyTorch from config.json + model.safetensors reproduces the logits within 1e-4`, () => {
      const r = python('bundle_reference.py', [bundles[name], path.join(tmp, `${name}-probe.json`)]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.lines[0].ok, true);
      assert.ok((r.lines[0].max_rel_error as number) <= 1e-4);
      assert.deepEqual(r.lines[0].architectures, [name === 'gpt' ? 'GPT2LMHeadModel' : 'BertForPreTraining']);
    });
  }

  it('logits off by 1 % fail the PyTorch check', () => {
    const file = path.join(tmp, 'gpt-probe.json');
    const p = JSON.parse(fs.readFileSync(file, 'utf8'));
    p.logits[1][3] = p.logits[1][3].map((v: number) => v * 1.01);
    const bad = path.join(tmp, 'gpt-bad-probe.json');
    fs.writeFileSync(bad, JSON.stringify(p));
    const r = python('bundle_reference.py', [bundles.gpt, bad]);
    assert.equal(r.status, 1);
    assert.equal(r.lines[0].ok, false);
  });

  it('ONNX\'s checker accepts every ONNX file of both bundles, and refuses a cut one', () => {
    const r = python('onnx_check.py', [bundles.gpt, bundles.bert]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.lines.length, 4);
    assert.ok(r.lines.every((l) => l.ok === true && (l.opset as number) >= 14));
    const cut = path.join(tmp, 'cut.onnx');
    fs.writeFileSync(cut, fs.readFileSync(path.join(bundles.gpt, 'onnx/model.onnx')).subarray(0, 2000));
    const bad = python('onnx_check.py', [cut]);
    assert.equal(bad.status, 1);
    assert.equal(bad.lines[0].ok, false);
  });
});
