/**
 * Cross-check of `npm run test:cross` (needs PyTorch; not part of `npm test`): the maps `workbench attention`
 * writes for a trained GPT and a trained BERT run, at a short input and at the full context, are reproduced
 * by an independent PyTorch implementation loading the run's model.safetensors (tools/attention_reference.py)
 * within 1e-4 relative error; a map off by 1 % is caught.
 *
 *   node --import tsx --test engine/inspect/attentionReference.cross.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTokenizer } from '../tokenizers';
import { useBackend } from '../testing';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from './tinyRuns.testing';

const root = path.resolve(import.meta.dirname, '../..');
const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
// wider than the unit tests' tiny runs, so that the heads are not near-uniform
const GPT_MODEL = { ...TINY_GPT, contextLength: 64, dModel: 32, nHeads: 4 };
const BERT_MODEL = { ...TINY_BERT, contextLength: 48, dModel: 32, nHeads: 4, dFF: 64 };
let tmp: string;
let gptRun: string;
let bertRun: string;

before(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-cross-'));
  gptRun = await tinyRun(path.join(tmp, 'gpt'), GPT_MODEL, { pretrain: { steps: 30, evalInterval: 15 } });
  bertRun = await tinyRun(path.join(tmp, 'bert'), BERT_MODEL, { tokenizer: tinyBertTokenizer, pretrain: { steps: 30, evalInterval: 15 } });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function attention(run: string, out: string, args: string[]): void {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/workbench.js'), 'attention', run, '--out', out, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

function reference(run: string, file: string): { ok: boolean; max_rel_error: number; tokens: number; status: number } {
  const r = spawnSync(PYTHON, [path.join(root, 'tools/attention_reference.py'), run, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`${PYTHON} could not be run (${r.error.message}); test:cross needs PyTorch`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (!last.startsWith('{')) throw new Error(`attention_reference.py failed:\n${r.stderr}`);
  process.stdout.write(`# ${last}\n`);
  return { ...JSON.parse(last), status: r.status ?? -1 };
}

describe('attention maps against PyTorch', () => {
  it('GPT: a short input and the full context of 64 tokens', () => {
    const short = path.join(tmp, 'gpt-short.json');
    attention(gptRun, short, ['--text', 'ROMEO: O, speak again']);
    const r0 = reference(gptRun, short);
    assert.deepEqual([r0.ok, r0.tokens], [true, 21]);
    const full = path.join(tmp, 'gpt-full.json');
    attention(gptRun, full, ['--text', fs.readFileSync(path.join(tmp, 'gpt', 'small.txt'), 'utf8').slice(0, 64), '--checkpoint', 'best']);
    const r = reference(gptRun, full);
    assert.equal(r.tokens, 64);
    assert.ok(r.ok && r.max_rel_error <= 1e-4, JSON.stringify(r));
  });

  it('BERT: a sentence pair and the full context of 48 tokens', () => {
    const pair = path.join(tmp, 'bert-pair.json');
    attention(bertRun, pair, ['--text', 'the king is dead', '--pair', 'long live the king']);
    assert.ok(reference(bertRun, pair).ok);
    const tok = loadTokenizer(path.join(bertRun, 'tokenizer.json'));
    assert.equal(tok.encode('the').length, 1, 'one token per word below');
    const full = path.join(tmp, 'bert-full.json');
    attention(bertRun, full, ['--text', Array(23).fill('the').join(' '), '--pair', Array(22).fill('the').join(' ')]);
    const r = reference(bertRun, full);
    assert.equal(r.tokens, 48);
    assert.ok(r.ok && r.max_rel_error <= 1e-4, JSON.stringify(r));
  });

  it('a map off by 1 % fails the check', () => {
    const file = path.join(tmp, 'gpt-short.json');
    const f = JSON.parse(fs.readFileSync(file, 'utf8'));
    f.attentions[1][2][5][3] *= 1.01;
    const bad = path.join(tmp, 'gpt-bad.json');
    fs.writeFileSync(bad, JSON.stringify(f));
    const r = reference(gptRun, bad);
    assert.equal(r.ok, false);
    assert.equal(r.status, 1);
  });
});
