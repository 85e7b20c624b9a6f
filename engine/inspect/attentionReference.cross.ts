/**
 * Cross-check of `npm run test:cross` (needs PyTorch; not part of `npm test`): the maps `workbench attention`
 * writes, and the model's language-model logits, for trained GPT and BERT runs of every position kind
 * (learned, sinusoidal, RoPE) and both attention kinds (softmax; linear, whose map is its implied weights),
 * with the mixture of experts, both activations and non-default norm epsilons and RoPE bases spread over them,
 * at a short input and at the full context, are reproduced by an independent PyTorch implementation loading
 * the run's model.safetensors (tools/attention_reference.py) within 1e-4 relative error. The check can fail: in
 * every case a map off by 1 % does, and so does a reference told another value of an option the run depends on.
 *
 *   node --import tsx --test engine/inspect/attentionReference.cross.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfigInput } from '../../common/modelConfig';
import { BERT } from '../models/bert/model';
import { GPT } from '../models/gpt/model';
import { loadRunModel } from '../runs/loadRunModel';
import { loadTokenizer } from '../tokenizers';
import { useBackend } from '../testing';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from './tinyRuns.testing';

const root = path.resolve(import.meta.dirname, '../..');
const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
// wider than the unit tests' tiny runs, so that the heads are not near-uniform
const GPT_MODEL = { ...TINY_GPT, contextLength: 64, dModel: 32, nHeads: 4 };
const BERT_MODEL = { ...TINY_BERT, contextLength: 48, dModel: 32, nHeads: 4, dFF: 64 };

type ModelOptions = Partial<Omit<ModelConfigInput, 'arch' | 'vocabSize'>>;
interface Case {
  name: string;
  model: ModelOptions;
  /** the same run described with another value of an option it depends on: the reference must then disagree */
  wrong: ModelOptions;
}

/**
 * Every position kind × both attention kinds; the other options that change the maps or the logits (mixture
 * of experts with top-1 and top-2 routing, the architecture's other GELU, the norm epsilon, the RoPE base)
 * ride along, each on at least one case. The two GELUs differ by less than 5e-4 anywhere: on these small
 * models, describing the run with the other one moves the logits by 2e-6–1e-5 of their size, too little for a
 * 1e-4 check to tell apart, so the case that varies the activation is misdescribed by its epsilon instead.
 */
function cases(arch: 'gpt' | 'bert'): Case[] {
  const otherGelu = arch === 'gpt' ? 'gelu' : 'gelu_new';
  return [
    { name: 'learned, softmax', model: {}, wrong: { layerNormEps: 1e-2 } },
    { name: 'learned, linear, MoE top-2 of 3', model: { attention: 'linear', moe: { experts: 3, topK: 2 } }, wrong: { moe: { experts: 3, topK: 1 } } },
    { name: `sinusoidal, softmax, ${otherGelu}, eps 1e-3`, model: { positional: 'sinusoidal', activation: otherGelu, layerNormEps: 1e-3 }, wrong: { layerNormEps: 1e-5 } },
    { name: 'sinusoidal, linear', model: { positional: 'sinusoidal', attention: 'linear' }, wrong: { positional: 'rope' } },
    { name: 'RoPE base 500, softmax', model: { positional: 'rope', ropeBase: 500 }, wrong: { ropeBase: 10000 } },
    { name: 'RoPE, linear, MoE top-1 of 2', model: { positional: 'rope', attention: 'linear', moe: { experts: 2, topK: 1 } }, wrong: { attention: 'softmax' } },
  ];
}

let tmp: string;
before(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-cross-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `workbench attention RUN --out OUT ARGS`; its stderr. */
function attention(run: string, out: string, args: string[]): string {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/workbench.js'), 'attention', run, '--out', out, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}

interface Comparison { max_rel_error: number; ok: boolean }
interface Verdict { file: string; tokens: number; ok: boolean; attentions?: Comparison; logits?: Comparison }

/** One verdict per file from tools/attention_reference.py, and its exit status. */
function reference(run: string, files: string[]): { verdicts: Verdict[]; status: number } {
  const r = spawnSync(PYTHON, [path.join(root, 'tools/attention_reference.py'), run, ...files], { encoding: 'utf8' });
  if (r.error) throw new Error(`${PYTHON} could not be run (${r.error.message}); test:cross needs PyTorch`);
  const lines = r.stdout.trim().split('\n').filter((l) => l.startsWith('{'));
  if (lines.length !== files.length) throw new Error(`attention_reference.py answered ${lines.length} of ${files.length} files (exit ${r.status}):\n${r.stderr}`);
  for (const l of lines) process.stdout.write(`# ${l}\n`);
  return { verdicts: lines.map((l) => JSON.parse(l)), status: r.status ?? -1 };
}

/** The run's language-model logits [T][V] of `ids`, computed in this process from the checkpoint the file names. */
async function logitsFile(run: string, attentionJson: string, out: string): Promise<void> {
  const f = JSON.parse(fs.readFileSync(attentionJson, 'utf8'));
  const rm = await loadRunModel(run, f.checkpoint);
  try {
    const logits = tf.tidy(() => {
      const T = f.ids.length;
      const ids = tf.tensor2d(f.ids, [1, T], 'int32');
      const types = f.tokenTypeIds ? { tokenTypeIds: tf.tensor2d(f.tokenTypeIds, [1, T], 'int32') } : {};
      const { hidden } = rm.model.forward({ inputIds: ids, ...types });
      const m = rm.model;
      return (m instanceof GPT ? m.lmLogits(hidden) : (m as BERT).mlmLogits(hidden)).arraySync()[0];
    });
    fs.writeFileSync(out, JSON.stringify({ checkpoint: f.checkpoint, ids: f.ids, ...(f.tokenTypeIds ? { tokenTypeIds: f.tokenTypeIds } : {}), logits }));
  } finally {
    rm.model.dispose();
  }
}

/** A run folder that shares `run`'s checkpoints but whose config says `wrong` where the run says otherwise. */
function misdescribed(run: string, wrong: ModelOptions, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const json = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8'));
  Object.assign(json.config.spec.model, wrong);
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(json));
  fs.symlinkSync(path.join(run, 'checkpoints'), path.join(dir, 'checkpoints'));
  return dir;
}

function assertAgree(verdicts: Verdict[], tokens: number[]): void {
  assert.deepEqual(verdicts.map((v) => v.tokens), tokens);
  for (const v of verdicts) {
    assert.ok(v.ok, JSON.stringify(v));
    for (const c of [v.attentions, v.logits].filter((x) => x !== undefined)) assert.ok(c.max_rel_error <= 1e-4, JSON.stringify(v));
  }
}

/** Trains the case's run, writes its maps (short and full context) and logits, and checks them against PyTorch. */
async function crossCheck(arch: 'gpt' | 'bert', c: Case, inputs: (run: string) => { short: string[]; full: string[]; tokens: [number, number] }): Promise<void> {
  const dir = path.join(tmp, `${arch}-${c.name.replace(/[^a-z0-9]+/gi, '-')}`);
  const model = { ...(arch === 'gpt' ? GPT_MODEL : BERT_MODEL), ...c.model } as Omit<ModelConfigInput, 'vocabSize'>;
  const run = await tinyRun(dir, model, { ...(arch === 'bert' ? { tokenizer: tinyBertTokenizer } : {}), pretrain: { steps: 30, evalInterval: 15 } });
  const { short, full, tokens } = inputs(run);
  const files = [path.join(dir, 'short.json'), path.join(dir, 'full.json'), path.join(dir, 'full-logits.json')];
  const said = attention(run, files[0], short);
  // linear attention's maps are the weights it implies, and the command says so
  assert.equal(/no softmax matrix: the maps are the weights it implies/.test(said), c.model.attention === 'linear', said);
  attention(run, files[1], [...full, '--checkpoint', 'best']);
  await logitsFile(run, files[1], files[2]);
  const perturbed = path.join(dir, 'perturbed.json');
  const f = JSON.parse(fs.readFileSync(files[0], 'utf8'));
  f.attentions[1][2][5][3] *= 1.01;
  fs.writeFileSync(perturbed, JSON.stringify(f));
  const r = reference(run, [...files, perturbed]);
  assert.equal(r.status, 1, 'the map off by 1 % fails the run of the reference');
  assertAgree(r.verdicts.slice(0, 3), [tokens[0], tokens[1], tokens[1]]);
  assert.equal(r.verdicts[3].ok, false, 'a map off by 1 % fails');
  const wrong = reference(misdescribed(run, c.wrong, path.join(dir, 'wrong')), files.slice(1));
  assert.equal(wrong.status, 1, `a reference told ${JSON.stringify(c.wrong)} must disagree`);
  assert.equal(wrong.verdicts[0].ok, false);
}

const gptInputs = (run: string) => ({
  short: ['--text', 'ROMEO: O, speak again'],
  full: ['--text', fs.readFileSync(path.join(run, '..', '..', 'small.txt'), 'utf8').slice(0, 64)],
  tokens: [21, 64] as [number, number],
});

const bertInputs = (run: string) => {
  const tok = loadTokenizer(path.join(run, 'tokenizer.json'));
  assert.equal(tok.encode('the').length, 1, 'one token per word below');
  return {
    short: ['--text', 'the king is dead', '--pair', 'long live the king'],
    full: ['--text', Array(23).fill('the').join(' '), '--pair', Array(22).fill('the').join(' ')],
    tokens: [tok.encode('the king is dead').length + tok.encode('long live the king').length + 3, 48] as [number, number],
  };
};

describe('attention maps and logits against PyTorch: GPT', () => {
  for (const c of cases('gpt')) it(`${c.name}: 21 tokens and the full context of 64`, () => crossCheck('gpt', c, gptInputs));
});

describe('attention maps and logits against PyTorch: BERT', () => {
  for (const c of cases('bert')) it(`${c.name}: a sentence pair and the full context of 48 tokens`, () => crossCheck('bert', c, bertInputs));
});
