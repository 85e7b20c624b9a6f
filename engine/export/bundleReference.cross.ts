/**
 * Cross-check of `npm run test:cross` (needs Debian's python3-torch and python3-onnx; not part of `npm test`):
 * bundles exported from a trained GPT and a trained BERT (mlm-nsp: BertForPreTraining), and from a GPT and
 * a BERT fine-tuned into sequence classifiers (GPT2ForSequenceClassification, BertForSequenceClassification), run
 *  - through an independent PyTorch implementation that reads only the bundle's config.json and
 *    model.safetensors (tools/bundle_reference.py), which reproduces the engine's logits within 1e-4
 *    relative on the export probe (full context, a padded row, BERT's segment B; a classifier's class logits,
 *    GPT-2's at the last token before [PAD] as transformers finds it); logits off by 1 % fail;
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
import { classifierRun, twoWordTask } from './classifierRuns.testing';
import { exportBundle } from './exportBundle';
import { engineLogits, makeProbe } from './probe';

const root = path.resolve(import.meta.dirname, '../..');
const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
let tmp: string;
const NAMES = ['gpt', 'bert', 'gpt-classifier', 'bert-classifier'] as const;
const ARCHITECTURES = { gpt: 'GPT2LMHeadModel', bert: 'BertForPreTraining', 'gpt-classifier': 'GPT2ForSequenceClassification', 'bert-classifier': 'BertForSequenceClassification' };
const bundles = Object.fromEntries(NAMES.map((n) => [n, ''])) as Record<(typeof NAMES)[number], string>;

before(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-cross-'));
  const { gpt: gptRun, bert: bertRun } = await bundleRuns(tmp, {
    gpt: () => tinyRun(path.join(tmp, 'gpt'), { ...TINY_GPT, contextLength: 64, dModel: 32, nHeads: 4 }, { pretrain: { steps: 30, evalInterval: 15 } }),
    bert: () => tinyRun(path.join(tmp, 'bert'), { ...TINY_BERT, contextLength: 48, dModel: 32, nHeads: 4, dFF: 64 }, { tokenizer: tinyBertTokenizer, pretrain: { steps: 30, evalInterval: 15, objective: 'mlm-nsp' } }),
  });
  // classifiers fine-tuned from tiny bases; the GPT's tokenizer has [PAD], so config.json's pad_token_id is set
  const task = twoWordTask(tmp);
  const gptBase = await tinyRun(path.join(tmp, 'gpt-base'), { ...TINY_GPT, contextLength: 32 }, { tokenizer: { kind: 'char', specials: true }, pretrain: { steps: 10, evalInterval: 10 } });
  const bertBase = await tinyRun(path.join(tmp, 'bert-base'), { ...TINY_BERT, contextLength: 32 }, { tokenizer: tinyBertTokenizer, pretrain: { steps: 10, evalInterval: 10 } });
  const runs = { gpt: gptRun, bert: bertRun, 'gpt-classifier': await classifierRun(gptBase, task, path.join(tmp, 'ft'), 'full', 6), 'bert-classifier': await classifierRun(bertBase, task, path.join(tmp, 'ft'), 'full', 6) };
  for (const name of NAMES) {
    bundles[name] = path.join(tmp, 'bundles', name);
    await exportBundle(runs[name], 'last', bundles[name]);
    await writeProbe(runs[name], path.join(tmp, `${name}-probe.json`));
  }
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * The export probe and the engine's logits on it, as bundle_reference.py reads them. A GPT classifier's padded
 * positions hold [PAD] and its real ones never do, as in a user's batch: transformers finds the last token by it.
 */
async function writeProbe(run: string, file: string): Promise<void> {
  const rm = await loadRunModel(run, 'last');
  try {
    const p = makeProbe(rm.model.config);
    const pad = rm.tokenizer.specialIds.pad;
    if (rm.model.config.numLabels !== undefined && rm.model.config.arch === 'gpt' && pad !== undefined) p.inputIds = p.inputIds.map((id, i) => (!p.attentionMask[i] ? pad : id === pad ? (pad + 1) % rm.model.config.vocabSize : id));
    const rows = (v: ArrayLike<number>, width: number) => Array.from({ length: p.batch }, (_, b) => Array.from(v).slice(b * width, (b + 1) * width));
    const logits = engineLogits(rm.model, p);
    const classes = rm.model.config.numLabels;
    const V = rm.model.config.vocabSize;
    fs.writeFileSync(file, JSON.stringify({
      input_ids: rows(p.inputIds, p.length), attention_mask: rows(p.attentionMask, p.length), token_type_ids: rows(p.tokenTypeIds, p.length),
      logits: classes !== undefined ? rows(logits, classes) : rows(logits, p.length * V).map((r) => Array.from({ length: p.length }, (_, t) => r.slice(t * V, (t + 1) * V))),
    }));
  } finally {
    rm.model.dispose();
  }
}

function python(script: string, args: string[]): { status: number; lines: Record<string, unknown>[]; stderr: string } {
  const r = spawnSync(PYTHON, [path.join(root, 'tools', script), ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`${PYTHON} could not be run (${r.error.message}); test:cross needs python3-torch and python3-onnx`);
  const lines = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  if (!lines.length) throw new Error(`${script} printed no result:\n${r.stderr}`);
  for (const l of lines) process.stdout.write(`# ${JSON.stringify(l)}\n`);
  return { status: r.status ?? -1, lines, stderr: r.stderr };
}

describe('exported bundles outside the workbench', () => {
  for (const name of NAMES) {
    it(`${name}: PyTorch from config.json + model.safetensors reproduces the ${name.endsWith('classifier') ? 'class ' : ''}logits within 1e-4`, () => {
      const r = python('bundle_reference.py', [bundles[name], path.join(tmp, `${name}-probe.json`)]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.lines[0].ok, true);
      assert.ok((r.lines[0].max_rel_error as number) <= 1e-4);
      assert.deepEqual(r.lines[0].architectures, [ARCHITECTURES[name]]);
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

  it('a classifier\'s class logits off by 1 % fail the PyTorch check', () => {
    const p = JSON.parse(fs.readFileSync(path.join(tmp, 'bert-classifier-probe.json'), 'utf8'));
    p.logits[0] = p.logits[0].map((v: number) => v * 1.01);
    const bad = path.join(tmp, 'bert-classifier-bad-probe.json');
    fs.writeFileSync(bad, JSON.stringify(p));
    const r = python('bundle_reference.py', [bundles['bert-classifier'], bad]);
    assert.equal(r.status, 1);
    assert.equal(r.lines[0].ok, false);
  });

  it('ONNX\'s checker accepts every ONNX file of the four bundles, and refuses a cut one', () => {
    const r = python('onnx_check.py', NAMES.map((n) => bundles[n]));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.lines.length, 8);
    assert.ok(r.lines.every((l) => l.ok === true && (l.opset as number) >= 14));
    const cut = path.join(tmp, 'cut.onnx');
    fs.writeFileSync(cut, fs.readFileSync(path.join(bundles.gpt, 'onnx/model.onnx')).subarray(0, 2000));
    const bad = python('onnx_check.py', [cut]);
    assert.equal(bad.status, 1);
    assert.equal(bad.lines[0].ok, false);
  });
});
