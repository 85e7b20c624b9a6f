/**
 * exportBundle on tiny trained runs: the files of a bundle and what they say, the verification against the
 * model (which a damaged bundle fails), a non-empty folder refused unless overwrite, the run folder
 * refused as --out, a model Hugging Face cannot represent refused by option, a cancel leaving nothing.
 * Kills mid-export: exportKill.test.ts. Loading in transformers.js: transformersJs.test.ts.
 *
 *   node --import tsx --test engine/export/exportBundle.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isTempName } from '../../common/node/atomicWrite';
import { decodeSafetensors } from '../runs/safetensors';
import { loadRunModel } from '../runs/loadRunModel';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { useBackend } from '../testing';
import { exportBundle, type ExportStage } from './exportBundle';
import { verifyBundle } from './verify';

let tmp: string;
let gptRun: string;
let bertRun: string;

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'export-bundle-'));
  gptRun = await tinyRun(path.join(tmp, 'gpt'), TINY_GPT);
  bertRun = await tinyRun(path.join(tmp, 'bert'), TINY_BERT, { tokenizer: tinyBertTokenizer });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const siblingsOf = (dir: string) => fs.readdirSync(path.dirname(dir)).filter((n) => n.startsWith(`.${path.basename(dir)}`) && isTempName(n));

describe('exportBundle', () => {
  it('GPT: every file of the bundle, Hugging Face names, a verified card, progress by stage', async () => {
    const out = path.join(tmp, 'out', 'gpt-bundle');
    const stages: ExportStage[] = [];
    const r = await exportBundle(gptRun, 'last', out, { onProgress: (p) => stages.push(p.stage) });
    assert.deepEqual(stages, ['open', 'safetensors', 'config', 'tokenizer', 'onnx', 'onnx-int8', 'verify', 'card', 'publish']);
    assert.deepEqual(r.files.map((f) => f.file), ['config.json', 'generation_config.json', 'model.safetensors', 'onnx/model_quantized.onnx', 'onnx/model.onnx', 'README.md', 'special_tokens_map.json', 'tokenizer_config.json', 'tokenizer.json']);
    assert.equal(r.architecture, 'GPT2LMHeadModel');
    assert.equal(r.checkpoint.step, 6);

    const { tensors, metadata } = decodeSafetensors(fs.readFileSync(path.join(out, 'model.safetensors')));
    assert.deepEqual(metadata, { format: 'pt' }, 'transformers refuses safetensors without format=pt');
    assert.deepEqual(tensors.get('transformer.h.0.attn.c_attn.weight')?.shape, [16, 48]);
    assert.ok(tensors.has('transformer.wte.weight') && !tensors.has('lm_head.weight'));

    const config = readJson(path.join(out, 'config.json'));
    assert.deepEqual([config.model_type, config.architectures[0], config.n_embd, config.n_layer, config.n_head, config.n_positions, config.vocab_size], ['gpt2', 'GPT2LMHeadModel', 16, 2, 2, 24, 58]);
    assert.equal(readJson(path.join(out, 'tokenizer_config.json')).model_max_length, 24);
    assert.equal(readJson(path.join(out, 'tokenizer.json')).model.type, 'WordLevel');

    assert.ok(r.report.ok);
    assert.deepEqual(r.report.checks.map((k) => k.file), ['model.safetensors', 'onnx/model.onnx', 'onnx/model_quantized.onnx']);
    const [st, f32, i8] = r.report.checks;
    assert.ok(st.relError <= 1e-4 && f32.relError <= 1e-4 && i8.relError <= i8.tolerance, JSON.stringify(r.report.checks));
    assert.ok(i8.relError > f32.relError, 'the int8 model is really int8');
    const card = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
    for (const part of ['pipeline_tag: text-generation', '## Data and its cleaning', '## Recipe', '## Compression', '## Intended use', '## Limits', '## Verification', '"kind":"char"', 'steps: 6 of 6']) assert.ok(card.includes(part), part);
    assert.match(card, /final losses at the exported checkpoint: train \d\.\d{4}, validation \d\.\d{4}/);
    assert.equal((card.match(/\| pass \|/g) ?? []).length, 3);
    assert.deepEqual(siblingsOf(out), [], 'no temporary left beside the bundle');
  });

  it('BERT trained with mlm: BertForMaskedLM without pooler, token types in the ONNX, a fill-mask card', async () => {
    const out = path.join(tmp, 'bert-bundle');
    const r = await exportBundle(bertRun, 'best', out);
    assert.equal(r.architecture, 'BertForMaskedLM');
    assert.ok(!r.files.some((f) => f.file === 'generation_config.json'));
    const { tensors } = decodeSafetensors(fs.readFileSync(path.join(out, 'model.safetensors')));
    assert.ok(tensors.has('bert.embeddings.word_embeddings.weight') && !tensors.has('bert.pooler.dense.weight'));
    const config = readJson(path.join(out, 'config.json'));
    assert.deepEqual([config.model_type, config.architectures[0], config.hidden_size, config.intermediate_size, config.type_vocab_size, config.pad_token_id], ['bert', 'BertForMaskedLM', 16, 32, 2, 0]);
    assert.deepEqual(readJson(path.join(out, 'special_tokens_map.json')), { pad_token: '[PAD]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', mask_token: '[MASK]' });
    assert.equal(readJson(path.join(out, 'tokenizer_config.json')).tokenizer_class, 'BertTokenizerFast', 'the class that returns token_type_ids');
    assert.ok(fs.readFileSync(path.join(out, 'onnx/model.onnx')).includes('token_type_ids'));
    assert.ok(r.report.ok, JSON.stringify(r.report));
    assert.match(fs.readFileSync(path.join(out, 'README.md'), 'utf8'), /pipeline_tag: fill-mask/);
  });

  it('a bundle whose weights were changed fails the verification', async () => {
    const out = path.join(tmp, 'tampered');
    await exportBundle(gptRun, 'last', out);
    const file = path.join(out, 'model.safetensors');
    const buf = fs.readFileSync(file);
    buf.writeFloatLE(buf.readFloatLE(buf.length - 4) + 0.5, buf.length - 4); // the last value of the last tensor
    fs.writeFileSync(file, buf);
    const rm = await loadRunModel(gptRun, 'last');
    try {
      const report = await verifyBundle(out, rm.model, 'GPT2LMHeadModel');
      assert.equal(report.ok, false);
      assert.deepEqual(report.checks.map((k) => k.ok), [false, true, true]);
    } finally {
      rm.model.dispose();
    }
  });

  it('a non-empty folder is refused unless overwrite, and then replaced whole', async () => {
    const out = path.join(tmp, 'taken');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    await assert.rejects(exportBundle(gptRun, 'last', out), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'INVALID_CONFIG');
      assert.match(e.message, /taken: is not empty \(1 entry, e\.g\. keep\.txt\); give an empty or new folder, or pass --overwrite/);
      return true;
    });
    assert.deepEqual(fs.readdirSync(out), ['keep.txt']);
    await exportBundle(gptRun, 'last', out, { overwrite: true });
    assert.ok(!fs.existsSync(path.join(out, 'keep.txt')) && fs.existsSync(path.join(out, 'model.safetensors')));
    assert.deepEqual(siblingsOf(out), []);
    fs.mkdirSync(path.join(tmp, 'empty'));
    await exportBundle(gptRun, 'last', path.join(tmp, 'empty')); // an empty folder is fine
  });

  it('--out that is a file, the run folder or one above it is refused before any work', async () => {
    fs.writeFileSync(path.join(tmp, 'a-file'), '');
    await assert.rejects(exportBundle(gptRun, 'last', path.join(tmp, 'a-file')), /a-file: is a file, not a folder/);
    await assert.rejects(exportBundle(gptRun, 'last', gptRun, { overwrite: true }), /is the run folder or holds it/);
    await assert.rejects(exportBundle(gptRun, 'last', path.dirname(gptRun), { overwrite: true }), /is the run folder or holds it/);
    assert.ok(fs.existsSync(path.join(gptRun, 'run.json')));
  });

  it('a model a Hugging Face config cannot describe is refused naming the option, and nothing is written', async () => {
    const rope = await tinyRun(path.join(tmp, 'rope'), { ...TINY_GPT, positional: 'rope' }, { pretrain: { steps: 2, evalInterval: 2 } });
    const out = path.join(tmp, 'rope-bundle');
    await assert.rejects(exportBundle(rope, 'last', out), /cannot be exported as a Hugging Face bundle: positional 'rope': .*train with positional 'learned'/);
    assert.ok(!fs.existsSync(out));
    assert.deepEqual(siblingsOf(out), []);
  });

  it('a cancel stops at the next stage and leaves nothing', async () => {
    const out = path.join(tmp, 'cancelled');
    const ac = new AbortController();
    await assert.rejects(
      exportBundle(gptRun, 'last', out, { signal: ac.signal, onProgress: (p) => { if (p.stage === 'onnx') ac.abort(); } }),
      (e: Error & { code?: string }) => e.code === 'JOB_CANCELLED' && /before onnx-int8/.test(e.message),
    );
    assert.ok(!fs.existsSync(out));
    assert.deepEqual(siblingsOf(out), []);
  });
});
