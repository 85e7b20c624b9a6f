/**
 * Cross-check of `npm run test:cross` (needs PyTorch; not part of `npm test`): a GPT-2 and a BERT checkpoint
 * folder in Hugging Face's layout, written by a script outside the workbench (tools/hf_checkpoint_writer.py:
 * its own PyTorch models, safetensors written with struct, tokenizer.json as HF's library saves it), are
 * imported with `workbench import`; the script's texts tokenize to the same ids, and `workbench attention`'s
 * maps (entry by entry) and the imported model's logits (against the largest logit) equal the script's
 * float64 forward pass within 1e-4 relative error, at a short input and at the full context.
 *
 *   node --import tsx --test engine/import/hfImport.cross.ts
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { GPT } from '../models/gpt/model';
import { loadRunModel } from '../runs/loadRunModel';
import { useBackend } from '../testing';

const root = path.resolve(import.meta.dirname, '../..');
const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const TOLERANCE = 1e-4;

interface Case { text: string; pair?: string; ids: number[]; tokenTypeIds?: number[]; logits: number[][]; attentions: number[][][][] }
let tmp: string;
let expected: Record<'gpt2' | 'bert', Record<'short' | 'full', Case>>;

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-import-cross-'));
  const r = spawnSync(PYTHON, [path.join(root, 'tools/hf_checkpoint_writer.py'), tmp], { encoding: 'utf8' });
  if (r.error) throw new Error(`${PYTHON} could not be run (${r.error.message}); test:cross needs PyTorch`);
  assert.equal(r.status, 0, r.stderr);
  expected = JSON.parse(fs.readFileSync(path.join(tmp, 'expected.json'), 'utf8'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function workbench(args: string[]): string {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/workbench.js'), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The largest relative error of `ours` against `ref` entry by entry, entries below `floor` compared absolutely (probabilities). */
function maxRelError(ours: ArrayLike<number>, ref: ArrayLike<number>, floor = 1e-6): number {
  assert.equal(ours.length, ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i] - ref[i]) / Math.max(Math.abs(ref[i]), floor));
  return worst;
}

/**
 * The largest error of `ours` relative to the largest magnitude in `ref` (logits: a logit near zero is the
 * difference of large terms, and float32 holds it to an absolute, not a relative, precision).
 */
function scaledError(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(ours.length, ref.length);
  let worst = 0; let scale = 0;
  for (let i = 0; i < ref.length; i++) { worst = Math.max(worst, Math.abs(ours[i] - ref[i])); scale = Math.max(scale, Math.abs(ref[i])); }
  return worst / scale;
}

async function check(model: 'gpt2' | 'bert'): Promise<void> {
  const runDir = path.join(tmp, `${model}-run`);
  const summary = JSON.parse(workbench(['import', path.join(tmp, model), '--out', runDir, '--json']).trim().split('\n').pop()!);
  assert.equal(summary.run_dir, runDir);
  for (const key of ['short', 'full'] as const) {
    const c = expected[model][key];
    const out = path.join(tmp, `${model}-${key}.json`);
    workbench(['attention', runDir, '--text', c.text, ...(c.pair ? ['--pair', c.pair] : []), '--out', out]);
    const file = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.deepEqual(file.ids, c.ids, `${model} ${key}: the imported tokenizer gives the script's ids`);
    const mapsError = maxRelError(file.attentions.flat(3), c.attentions.flat(3));
    const rm = await loadRunModel(runDir);
    let logitsError: number;
    try {
      const logits = tf.tidy(() => {
        const batch = { inputIds: tf.tensor2d([c.ids], undefined, 'int32'), ...(c.tokenTypeIds ? { tokenTypeIds: tf.tensor2d([c.tokenTypeIds], undefined, 'int32') } : {}) };
        const { hidden } = rm.model.forward(batch);
        return (rm.model instanceof GPT ? rm.model.lmLogits(hidden) : rm.model.mlmLogits(hidden)).dataSync();
      });
      logitsError = scaledError(logits, c.logits.flat());
    } finally {
      rm.model.dispose();
    }
    console.log(`# ${model} ${key}: ${c.ids.length} tokens, attention max rel error ${mapsError.toExponential(2)}, logits max error / max |logit| ${logitsError.toExponential(2)}`);
    assert.ok(mapsError <= TOLERANCE, `${model} ${key}: attention maps off by ${mapsError}`);
    assert.ok(logitsError <= TOLERANCE, `${model} ${key}: logits off by ${logitsError}`);
  }
}

describe('a Hugging Face checkpoint folder written outside the workbench', () => {
  it('GPT-2: imports, tokenizes alike, and its maps and logits equal PyTorch\'s (15 tokens and the full 40)', () => check('gpt2'));
  it('BERT: imports, tokenizes a sentence pair alike, and its maps and logits equal PyTorch\'s (11 tokens and the full 36)', () => check('bert'));
});
