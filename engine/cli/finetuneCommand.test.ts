import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TINY_BERT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { finetuneSettings } from './finetuneCommand';

const BIN = path.resolve(import.meta.dirname, '../../bin/workbench.js');
let tmp: string;
let base: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-cli-'));
  base = await tinyRun(tmp, TINY_BERT, { tokenizer: tinyBertTokenizer });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, 'finetune', ...args], { encoding: 'utf8', cwd: tmp, env: { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache') } });

test('flags over --config: the task, method, steps (warmup cut to fit) and init; --config data options kept', () => {
  const s = finetuneSettings({ task: 'brown-genre', method: 'full', steps: '5', init: 'scratch', config: '{"data":{"passagesPerDocument":2},"loop":{"batchSize":4}}' });
  assert.deepEqual(s.data, { passagesPerDocument: 2, kind: 'brown-genre' });
  assert.deepEqual(s.loop, { batchSize: 4, steps: 5, schedule: { warmupSteps: 5 } });
  assert.equal(s.method, 'full');
  assert.equal(s.init, 'scratch');
  assert.equal((finetuneSettings({ task: 'x.jsonl' }).data as { file: string }).file, path.resolve('x.jsonl'));
  assert.throws(() => finetuneSettings({ task: 'x.txt' }), /--task x\.txt: give brown-genre or a JSON Lines file/);
  assert.throws(() => finetuneSettings({ task: 'brown-genre', method: 'half' }), /--method half: give full or lora/);
  assert.throws(() => finetuneSettings({ task: 'brown-genre', config: '{' }), /--config: is not JSON/);
  assert.throws(() => finetuneSettings({}), /finetune needs --task/);
});

test('workbench finetune --json trains a classifier and its summary names the figures and the run', () => {
  const file = path.join(tmp, 'task.jsonl');
  fs.writeFileSync(file, Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: i % 2 ? 'the king' : 'my love', label: i % 2 })).join('\n'));
  const r = cli([base, '--task', file, '--method', 'full', '--steps', '2', '--json', '--config', '{"loop":{"batchSize":4,"evalBatches":1}}']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const logs = lines.filter((l) => l.type === 'log').map((l) => l.message as string);
  const summary = lines.at(-1)!;
  assert.equal(summary.type, 'summary');
  assert.equal(summary.status, 'completed');
  for (const k of ['accuracy', 'macro_f1', 'trainable_params', 'total_params']) assert.equal(typeof summary[k], 'number', k);
  assert.equal(summary.trainable_params, summary.total_params, 'full fine-tuning trains every weight');
  assert.equal(path.dirname(summary.run_dir as string), path.dirname(base), 'the run lands beside its base');
  const trainableAt = logs.findIndex((m) => m.startsWith('trainable parameters:'));
  const firstStep = lines.findIndex((l) => l.type === 'step');
  assert.ok(trainableAt >= 0 && lines.indexOf(lines.filter((l) => l.type === 'log')[trainableAt]) < firstStep, 'the trainable share is stated before training');
});

test('bad input exits 2 with the usage, a broken task file exits 1 naming the line', () => {
  const usage = cli([base, '--task', 'notes.txt']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--task notes\.txt: give brown-genre or a JSON Lines file/);
  const bad = path.join(tmp, 'bad.jsonl');
  fs.writeFileSync(bad, '{"text":"a","label":"x"}\n{"text":"b","lable":"y"}\n');
  const r = cli([base, '--task', bad]);
  assert.equal(r.status, 1);
  assert.match(r.stderr + r.stdout, /bad\.jsonl:2: has field "lable", which a task does not read/);
});
