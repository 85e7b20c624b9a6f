import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ClassificationReport, CLASSIFICATION_REPORT_FILE } from '../../common/classificationReport';
import { Comparison } from '../../common/compare';
import { measureComparison } from '../compare/measure';
import type { RunEvent } from '../../common/runEvents';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { loadRunModel } from '../runs/loadRunModel';
import { resolveDerivedRun } from '../training/derivedRun';
import { Trainer } from '../training/trainer';

let tmp: string;
let bertBase: string;
let task: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-kind-'));
  bertBase = await tinyRun(tmp, TINY_BERT, { tokenizer: tinyBertTokenizer });
  // a task a tiny model learns in a few steps: which of two words a line repeats
  const lines = Array.from({ length: 48 }, (_, i) => JSON.stringify(i % 2 ? { text: 'the king the king the king', label: 'king' } : { text: 'my love my love my love', label: 'love' }));
  task = path.join(tmp, 'task.jsonl');
  fs.writeFileSync(task, `${lines.join('\n')}\n`);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const loop = { steps: 12, batchSize: 8, evalInterval: 6, evalBatches: 1, schedule: { warmupSteps: 1 }, optimizer: { lr: 2e-2 } };

async function finetune(baseRunDir: string, settings: object, onEvent?: (e: RunEvent) => void) {
  const config = await resolveDerivedRun({ task: 'finetune', baseRunDir, baseCheckpoint: 'last', settings });
  const trainer = await Trainer.startDerived(config, path.join(tmp, 'ft-runs'), 'ft', { cacheDir: null, onEvent });
  return { config, summary: await trainer.run() };
}

test('full fine-tuning from a BERT checkpoint: head added, base weights copied, accuracy and macro-F1 at each evaluation, the report written', async () => {
  const events: RunEvent[] = [];
  const { config, summary } = await finetune(bertBase, { data: { kind: 'jsonl', file: task }, method: 'full', loop }, (e) => events.push(e));
  assert.equal(summary.status, 'completed', JSON.stringify(summary.error));
  assert.equal(config.model.numLabels, 2);
  const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
  assert.ok(logs.some((m) => /trainable parameters: [\d,]+ of [\d,]+ \(100\.00%\)/.test(m)), 'trainable share stated');
  assert.ok(logs.some((m) => /class balance .* lines train/.test(m)), 'class balance stated');
  assert.ok(logs.some((m) => /initialised afresh: classifier\.weight, classifier\.bias$/.test(m)), 'only the head starts fresh');
  const evals = events.flatMap((e) => (e.type === 'eval' ? [e] : []));
  assert.deepEqual(evals.map((e) => e.step), [6, 12]);
  assert.ok(evals.every((e) => e.val.accuracy !== undefined && e.val.macroF1 !== undefined));
  assert.equal(evals.at(-1)!.val.accuracy, 1, 'the separable task is learned');
  const metrics = fs.readFileSync(path.join(summary.run_dir, 'metrics.jsonl'), 'utf8');
  assert.match(metrics, /"val\/accuracy":1/);
  assert.match(metrics, /"val\/macro_f1"/);
  const report = ClassificationReport.parse(JSON.parse(fs.readFileSync(path.join(summary.run_dir, CLASSIFICATION_REPORT_FILE), 'utf8')));
  assert.equal(report.step, 12);
  assert.deepEqual(report.labels, ['king', 'love']);
  assert.ok(report.totalParams! > 0 && report.trainableParams === report.totalParams, 'full fine-tuning trains every parameter, and the report says so');
  assert.equal(report.confusion.flat().reduce((a, b) => a + b, 0), report.examples);
  assert.deepEqual(report.confusion, [[report.perClass[0].support, 0], [0, report.perClass[1].support]]);
  // the fine-tuned run opens through the one door like any run
  const rm = await loadRunModel(summary.run_dir);
  const base = await loadRunModel(bertBase);
  try {
    assert.ok(rm.model.params.has('classifier.weight'));
    const frozenInFull = base.model.params.get('bert.embeddings.word_embeddings.weight').dataSync();
    assert.notDeepEqual(rm.model.params.get('bert.embeddings.word_embeddings.weight').dataSync(), frozenInFull, 'full fine-tuning moved the base weights');
  } finally {
    rm.model.dispose();
    base.model.dispose();
  }
  // the comparison view measures the classifier on its own task again: the run's last accuracy, on the same examples
  const compared = await measureComparison({ baseRunDir: bertBase, variantRunDirs: [summary.run_dir], evalBatches: 1, batchSize: 4, backend: null, threads: 1, cacheDir: null });
  const row = Comparison.parse(JSON.parse(fs.readFileSync(compared.jsonFile, 'utf8'))).rows[1];
  assert.equal(row.error, undefined, row.error);
  assert.deepEqual([row.method, row.taskAccuracy], ['finetune', evals.at(-1)!.val.accuracy]);
  assert.ok(row.notes.some((n) => n === `task accuracy on ${report.examples} of its ${report.examples} test examples (the set its evaluations classify)`), row.notes.join('; '));
});

test('init scratch keeps the architecture and tokenizer but not the weights', async () => {
  const events: RunEvent[] = [];
  const { summary } = await finetune(bertBase, { data: { kind: 'jsonl', file: task }, method: 'full', init: 'scratch', loop: { ...loop, steps: 2, evalInterval: 2 } }, (e) => events.push(e));
  assert.equal(summary.status, 'completed', JSON.stringify(summary.error));
  assert.ok(events.some((e) => e.type === 'log' && /init 'scratch'/.test(e.message)));
  assert.ok(!events.some((e) => e.type === 'log' && /weights from/.test(e.message)));
});

test('a GPT base classifies from its last real token', async () => {
  const gptBase = await tinyRun(tmp, TINY_GPT);
  const { config, summary } = await finetune(gptBase, { data: { kind: 'jsonl', file: task }, method: 'full', loop: { ...loop, steps: 2, evalInterval: 2 } });
  assert.equal(summary.status, 'completed', JSON.stringify(summary.error));
  assert.equal(config.model.numLabels, 2);
  assert.ok(fs.existsSync(path.join(summary.run_dir, CLASSIFICATION_REPORT_FILE)));
});

test('a stopped fine-tuning run resumes to the end', async () => {
  const config = await resolveDerivedRun({ task: 'finetune', baseRunDir: bertBase, baseCheckpoint: 'last', settings: { data: { kind: 'jsonl', file: task }, method: 'full', loop } });
  const trainer = await Trainer.startDerived(config, path.join(tmp, 'ft-runs'), 'ft', { cacheDir: null, onEvent: (e) => { if (e.type === 'step' && e.step === 7) trainer.stop(); } });
  const stopped = await trainer.run();
  assert.equal(stopped.status, 'cancelled');
  const resumed = await (await Trainer.resume(stopped.run_dir, { cacheDir: null })).run();
  assert.equal(resumed.status, 'completed');
  assert.equal(resumed.steps, 12);
});

test('LoRA fine-tuning trains the adapters and the head only, resumes, and opens merged through the one door', async () => {
  const events: RunEvent[] = [];
  const settings = { data: { kind: 'jsonl', file: task }, method: 'lora', lora: { r: 4, alpha: 8, dropout: 0 }, loop: { ...loop, optimizer: { lr: 5e-2 } } };
  const config = await resolveDerivedRun({ task: 'finetune', baseRunDir: bertBase, baseCheckpoint: 'last', settings });
  const trainer = await Trainer.startDerived(config, path.join(tmp, 'lora-runs'), 'lora', {
    cacheDir: null, onEvent: (e) => { events.push(e); if (e.type === 'step' && e.step === 5) trainer.stop(); },
  });
  assert.equal((await trainer.run()).status, 'cancelled');
  const share = events.flatMap((e) => (e.type === 'log' ? [e.message] : [])).map((m) => /trainable parameters: [\d,]+ of [\d,]+ \(([\d.]+)%\)/.exec(m)?.[1]).find(Boolean);
  assert.ok(share !== undefined && Number(share) < 100, `the trainable share is stated and partial: ${share}`);
  const summary = await (await Trainer.resume(path.join(tmp, 'lora-runs', fs.readdirSync(path.join(tmp, 'lora-runs')).at(-1)!), { cacheDir: null })).run();
  assert.equal(summary.status, 'completed', JSON.stringify(summary.error));
  const report = ClassificationReport.parse(JSON.parse(fs.readFileSync(path.join(summary.run_dir, CLASSIFICATION_REPORT_FILE), 'utf8')));
  assert.equal(report.step, 12, 'the resumed run evaluated at its end');
  assert.equal(((100 * report.trainableParams!) / report.totalParams!).toFixed(2), share, 'the report records the share the log stated');
  const rm = await loadRunModel(summary.run_dir);
  const base = await loadRunModel(bertBase);
  try {
    assert.ok(!rm.model.params.names.some((n) => n.includes('lora_')), 'opened with the adapters merged in');
    const name = 'bert.encoder.layer.0.attention.self.query.weight';
    assert.notDeepEqual(rm.model.params.get(name).dataSync(), base.model.params.get(name).dataSync(), 'the merged adapter moved a targeted weight');
    const frozen = 'bert.encoder.layer.0.attention.self.key.weight';
    assert.deepEqual(rm.model.params.get(frozen).dataSync(), base.model.params.get(frozen).dataSync(), 'an untargeted weight is the base\'s, bit for bit');
  } finally {
    rm.model.dispose();
    base.model.dispose();
  }
});

test('bad settings are refused before a run folder exists: a broken task file, a LoRA target typo, passages past the context', async () => {
  const bad = path.join(tmp, 'bad.jsonl');
  fs.writeFileSync(bad, '{"text":"a","label":"x"}\n{"text":"b"}\n');
  await assert.rejects(resolveDerivedRun({ task: 'finetune', baseRunDir: bertBase, baseCheckpoint: 'last', settings: { data: { kind: 'jsonl', file: bad } } }), /bad\.jsonl:2: field "label" is missing/);
  await assert.rejects(resolveDerivedRun({ task: 'finetune', baseRunDir: bertBase, baseCheckpoint: 'last', settings: { data: { kind: 'brown-genre', passageTokens: 64 } } }), /passageTokens 64 exceeds the model's contextLength 24/);
  const config = await resolveDerivedRun({ task: 'finetune', baseRunDir: bertBase, baseCheckpoint: 'last', settings: { data: { kind: 'jsonl', file: task }, method: 'lora', lora: { targetModules: ['qeury'] } } });
  await assert.rejects(Trainer.startDerived(config, path.join(tmp, 'typo-runs'), 'lora', { cacheDir: null }), /'qeury' matches no module.*did you mean 'query'/);
});
