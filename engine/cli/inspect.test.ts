/**
 * The inspecting commands as a user meets them (real processes on tiny trained runs): sample repeats with a
 * seed, prints the length used and one JSON line per sample, and stops on Ctrl+C with exit 130; fill-mask
 * gives candidates per [MASK]; attention refuses a too-long input naming both lengths (exit 1) and a
 * missing --out with the usage (exit 2).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../testing';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';

const BIN = path.resolve(import.meta.dirname, '../../bin/workbench.js');
let tmp: string;
let gpt: string;
let bert: string;
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inspect-cli-'));
  gpt = await tinyRun(path.join(tmp, 'gpt'), TINY_GPT);
  bert = await tinyRun(path.join(tmp, 'bert'), TINY_BERT, { tokenizer: tinyBertTokenizer });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('workbench sample / fill-mask / attention', () => {
  it('sample --json: one line per sample with text and tokens_per_s; the same seed gives the same text; the length used is printed', () => {
    const args = ['sample', gpt, '--prompt', 'ROMEO:', '--max-new-tokens', '40', '--num-samples', '2', '--seed', '9', '--top-k', '10', '--top-p', '0.9', '--json', '--backend', 'cpu'];
    const a = cli(args);
    assert.equal(a.status, 0, a.stderr);
    const lines = a.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    for (const l of lines) {
      assert.equal(l.new_tokens, 40);
      assert.equal(typeof l.text, 'string');
      assert.ok(l.tokens_per_s > 0);
    }
    assert.notEqual(lines[0].text, lines[1].text, 'each sample has its own seed');
    assert.match(a.stderr, /2 × 40 new tokens after a prompt of 6 tokens .* context 24 tokens: beyond it the model sees the last 18–24/);
    assert.deepEqual(cli(args).stdout.trim().split('\n').map((l) => JSON.parse(l).text), lines.map((l) => l.text));
  });

  it('sample stops on Ctrl+C with what came so far, exit 130', async () => {
    const child = spawn(process.execPath, [BIN, 'sample', gpt, '--prompt', 'A', '--max-new-tokens', '100000', '--backend', 'cpu']);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; if (out.length > 20 && !child.killed) child.kill('SIGINT'); });
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 130, err);
    assert.match(err, /stopping after this token/);
    assert.match(err, /stopped\]/);
  });

  it('fill-mask --json: top-k candidates with probabilities per [MASK]; a GPT run is refused', () => {
    const r = cli(['fill-mask', bert, '--text', 'the [MASK] is [MASK]', '--top-k', '3', '--json', '--backend', 'cpu']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    for (const l of lines) {
      assert.equal(l.candidates.length, 3);
      assert.ok(l.candidates[0].probability >= l.candidates[2].probability);
    }
    const g = cli(['fill-mask', gpt, '--text', 'a [MASK]']);
    assert.equal(g.status, 1);
    assert.match(g.stderr, /needs a BERT run/);
  });

  it('attention: a too-long input names both lengths (exit 1); a missing --out is a usage error (exit 2)', () => {
    const long = cli(['attention', gpt, '--text', 'x'.repeat(30), '--out', path.join(tmp, 'a.json'), '--backend', 'cpu']);
    assert.equal(long.status, 1);
    assert.match(long.stderr, /the input is 30 tokens, longer than the model's context of 24 tokens/);
    assert.doesNotMatch(long.stderr, /at .*\.ts:\d+/, 'no stack trace');
    const noOut = cli(['attention', gpt, '--text', 'hi']);
    assert.equal(noOut.status, 2);
    assert.match(noOut.stderr, /needs --out FILE\.json/);
  });
});
