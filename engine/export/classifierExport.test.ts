/**
 * exportBundle on fine-tuned classifiers: a BERT (full and LoRA) and a GPT fine-tuned a few steps on a JSON
 * Lines task export as BertForSequenceClassification / GPT2ForSequenceClassification — their names, config.json
 * with the labels, class logits of the safetensors and both ONNX graphs against the engine, the ONNX graph
 * classifying real texts into the labels of id2label (by onnxruntime, and by transformers.js' text-classification
 * pipeline for BERT), the card with the labels and test figures; the labels
 * found without the report, and refused clearly where neither the report nor the task says them.
 *
 *   node --import tsx --test engine/export/classifierExport.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { env, pipeline } from '@huggingface/transformers';
import { CLASSIFICATION_REPORT_FILE, ClassificationReport } from '../../common/classificationReport';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { loadTokenizer } from '../tokenizers';
import { useBackend } from '../testing';
import { decodeSafetensors } from '../runs/safetensors';
import { isInt8Run, writeInt8Variant } from '../compression/int8Variant';
import { resolveDerivedRun } from '../training/derivedRun';
import { classifierRun, twoWordTask } from './classifierRuns.testing';
import { exportBundle } from './exportBundle';
import { FLOAT_TOLERANCE } from './verify';

let tmp: string;
let task: string;
let bertBase: string;
let bertFull: string;
let gptFull: string;

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'classifier-export-'));
  task = twoWordTask(tmp);
  bertBase = await tinyRun(path.join(tmp, 'bert'), TINY_BERT, { tokenizer: tinyBertTokenizer });
  bertFull = await classifierRun(bertBase, task, path.join(tmp, 'ft'), 'full', 12);
  gptFull = await classifierRun(await tinyRun(path.join(tmp, 'gpt'), TINY_GPT), task, path.join(tmp, 'ft'), 'full', 4);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const tensorNames = (dir: string) => [...decodeSafetensors(fs.readFileSync(path.join(dir, 'model.safetensors'))).tensors.keys()];

/** A copy of a run folder, to damage without touching the original. */
function copyRun(run: string, name: string): string {
  const to = path.join(tmp, 'copies', name);
  fs.cpSync(run, to, { recursive: true });
  return to;
}

describe('exporting a fine-tuned classifier', () => {
  it('BERT: BertForSequenceClassification with the labels; its ONNX graph classifies real texts as the engine does', async () => {
    const out = path.join(tmp, 'bundles', 'bert');
    const r = await exportBundle(bertFull, 'last', out);
    assert.equal(r.architecture, 'BertForSequenceClassification');
    assert.ok(r.report.ok, JSON.stringify(r.report.checks));
    assert.deepEqual(r.report.checks.map((k) => k.file), ['model.safetensors', 'onnx/model.onnx', 'onnx/model_quantized.onnx']);
    assert.ok(r.report.checks[0].relError <= FLOAT_TOLERANCE && r.report.checks[1].relError <= FLOAT_TOLERANCE);
    assert.ok(!r.files.some((f) => f.file === 'generation_config.json' || f.file.startsWith('adapter/')));

    const names = tensorNames(out);
    assert.ok(['classifier.weight', 'classifier.bias', 'bert.pooler.dense.weight'].every((n) => names.includes(n)), names.join(', '));
    assert.ok(!names.some((n) => n.startsWith('cls.')), 'no pretraining heads');

    const config = readJson(path.join(out, 'config.json'));
    assert.deepEqual([config.architectures, config.id2label, config.label2id, config.problem_type], [['BertForSequenceClassification'], { 0: 'king', 1: 'love' }, { king: 0, love: 1 }, 'single_label_classification']);

    const report = ClassificationReport.parse(readJson(path.join(bertFull, CLASSIFICATION_REPORT_FILE)));
    assert.equal(report.accuracy, 1, 'the separable task is learned');
    // the bundle as a user runs it: tokenizer.json's tokens framed as BERT's, the graph's argmax read through id2label
    const tok = loadTokenizer(path.join(out, 'tokenizer.json'));
    const session = await ort.InferenceSession.create(path.join(out, 'onnx/model.onnx'));
    try {
      for (const [text, label] of [['the king the king the king', 'king'], ['my love my love my love', 'love']]) {
        const ids = [tok.specialIds.cls!, ...tok.encode(text), tok.specialIds.sep!];
        const i64 = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
        const { logits } = await session.run({ input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)), token_type_ids: i64(ids.map(() => 0)) });
        assert.deepEqual(logits.dims, [1, 2]);
        const scores = Array.from(logits.data as Float32Array);
        assert.equal(config.id2label[scores.indexOf(Math.max(...scores))], label, `${text}: ${scores}`);
      }
    } finally {
      await session.release();
    }

    // transformers.js (it has BertForSequenceClassification, not GPT-2's) runs the bundle as a user would: tokenizer.json, config's labels, the graph
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = path.dirname(out) + path.sep;
    const classify = await pipeline('text-classification', path.basename(out), { local_files_only: true, dtype: 'fp32' });
    try {
      const top = await classify('my love my love my love') as { label: string; score: number }[];
      assert.equal(top[0].label, 'love', JSON.stringify(top));
      assert.ok(top[0].score > 0.5 && top[0].score <= 1);
    } finally {
      await classify.dispose();
    }

    const card = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
    for (const part of ['pipeline_tag: text-classification', 'BERT style sequence classifier (2 labels', '## Task', '0: `"king"`, 1: `"love"`', `accuracy ${report.accuracy.toFixed(4)}, macro-F1 ${report.macroF1.toFixed(4)}`, '| king |', 'output `logits` [batch_size, 2]']) assert.ok(card.includes(part), part);
    assert.equal((card.match(/\| pass \|/g) ?? []).length, 3);
  });

  it('GPT: GPT2ForSequenceClassification with score.weight, the pad id it finds the last token by, no generation config', async () => {
    const out = path.join(tmp, 'bundles', 'gpt');
    const r = await exportBundle(gptFull, 'last', out);
    assert.equal(r.architecture, 'GPT2ForSequenceClassification');
    assert.ok(r.report.ok, JSON.stringify(r.report.checks));
    assert.ok(r.report.checks[1].relError <= FLOAT_TOLERANCE);
    assert.ok(!r.files.some((f) => f.file === 'generation_config.json'));
    const names = tensorNames(out);
    assert.ok(names.includes('score.weight') && names.filter((n) => n !== 'score.weight').every((n) => n.startsWith('transformer.')), names.join(', '));
    const config = readJson(path.join(out, 'config.json'));
    // the tiny GPT's char tokenizer has no [PAD]: config.json says so (null), and the card how to run it then
    assert.equal(loadTokenizer(path.join(out, 'tokenizer.json')).specialIds.pad, undefined);
    assert.deepEqual([config.architectures, config.pad_token_id, config.id2label], [['GPT2ForSequenceClassification'], null, { 0: 'king', 1: 'love' }]);
    const session = await ort.InferenceSession.create(path.join(out, 'onnx/model_quantized.onnx'));
    try {
      assert.deepEqual([...session.inputNames], ['input_ids', 'attention_mask']);
    } finally {
      await session.release();
    }
    const card = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
    assert.match(card, /GPT-2 style sequence classifier \(2 labels, read from the last real token\)/);
    assert.match(card, /has no \[PAD\] token, so `pad_token_id` is null: transformers' GPT2ForSequenceClassification then classifies one unpadded text per call/);
  });

  it('LoRA: exported merged and verified, its PEFT adapter beside it', async () => {
    const lora = await classifierRun(bertBase, task, path.join(tmp, 'ft-lora'), 'lora', 4);
    const out = path.join(tmp, 'bundles', 'lora');
    const r = await exportBundle(lora, 'last', out);
    assert.equal(r.architecture, 'BertForSequenceClassification');
    assert.ok(r.report.ok, JSON.stringify(r.report.checks));
    assert.ok(!tensorNames(out).some((n) => n.includes('lora_')), 'the adapters are merged into the weights');
    const files = r.files.map((f) => f.file);
    assert.ok(files.includes('adapter/adapter_model.safetensors') && files.includes('adapter/adapter_config.json'), files.join(', '));
    assert.equal(readJson(path.join(out, 'adapter/adapter_config.json')).task_type, 'SEQ_CLS');
    const adapterBytes = r.files.filter((f) => f.file.startsWith('adapter/')).reduce((n, f) => n + f.bytes, 0);
    assert.ok(fs.readFileSync(path.join(out, 'README.md'), 'utf8').includes(`the LoRA adapter (${adapterBytes.toLocaleString('en-US')} bytes) as PEFT saves it`), 'the card lists the adapter');
  });

  it('an int8 variant of a classifier exports with its base\'s labels, its int8 graph from the variant\'s own codes', async () => {
    const config = await resolveDerivedRun({ task: 'compress', baseRunDir: gptFull, baseCheckpoint: 'last', settings: { method: 'int8', measure: { batchSize: 4, evalBatches: 1 } } });
    assert.ok(config.task === 'compress' && isInt8Run(config));
    const variant = await writeInt8Variant(config, path.join(tmp, 'variants'), 'gpt classifier int8', { cacheDir: null });
    const out = path.join(tmp, 'bundles', 'int8');
    const r = await exportBundle(variant.runDir, 'last', out);
    assert.equal(r.architecture, 'GPT2ForSequenceClassification');
    assert.ok(r.report.ok, JSON.stringify(r.report.checks));
    assert.deepEqual(readJson(path.join(out, 'config.json')).id2label, { 0: 'king', 1: 'love' });
    assert.match(fs.readFileSync(path.join(out, 'README.md'), 'utf8'), /No evaluation of its own is in the run folder/);
  });

  it('without its report, the labels come from the task; with neither, or a broken report, the export is refused naming the file', async () => {
    const noReport = copyRun(gptFull, 'no-report');
    fs.rmSync(path.join(noReport, CLASSIFICATION_REPORT_FILE));
    const out = path.join(tmp, 'bundles', 'no-report');
    await exportBundle(noReport, 'last', out);
    assert.deepEqual(readJson(path.join(out, 'config.json')).id2label, { 0: 'king', 1: 'love' });
    assert.match(fs.readFileSync(path.join(out, 'README.md'), 'utf8'), /No evaluation of its own is in the run folder/);

    const moved = `${task}.moved`;
    fs.renameSync(task, moved);
    try {
      const refused = path.join(tmp, 'bundles', 'refused');
      await assert.rejects(exportBundle(noReport, 'last', refused), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'INVALID_CONFIG');
        assert.match(e.message, /a classifier of 2 labels, whose label names config\.json needs, found in none of: .*classification\.json \(missing: the run has not evaluated yet\); its task, .*task\.jsonl \(.*\)\. Resume or re-run the fine-tuning until it evaluates/);
        return true;
      });
      assert.ok(!fs.existsSync(refused));
      // the report travels with the run folder: a run that evaluated still exports with its task file gone
      await exportBundle(gptFull, 'last', path.join(tmp, 'bundles', 'task-moved'));
    } finally {
      fs.renameSync(moved, task);
    }

    const broken = copyRun(gptFull, 'broken-report');
    fs.writeFileSync(path.join(broken, CLASSIFICATION_REPORT_FILE), '{"step": 4, "labels": ["ki');
    await assert.rejects(exportBundle(broken, 'last', path.join(tmp, 'bundles', 'broken')), /cannot export the classifier: .*classification\.json: is not JSON/);

    const other = copyRun(gptFull, 'other-labels');
    const report = readJson(path.join(other, CLASSIFICATION_REPORT_FILE));
    fs.writeFileSync(path.join(other, CLASSIFICATION_REPORT_FILE), JSON.stringify({ ...report, labels: ['king', 'love', 'queen'] }));
    await assert.rejects(exportBundle(other, 'last', path.join(tmp, 'bundles', 'other')), /classification\.json: 3 \(king, love, queen\), but the model has 2 outputs/);
  });
});
