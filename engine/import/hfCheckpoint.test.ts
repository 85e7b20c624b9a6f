import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../../common/backends';
import { readRunJson } from '../../common/node/runFiles';
import { parseRunConfig } from '../../common/runConfig';
import { selectBackend } from '../backends/select';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { GPT } from '../models/gpt/model';
import { latestValidCheckpoint } from '../runs/checkpoint';
import { loadRunModel, type RunModel } from '../runs/loadRunModel';
import { encodeSafetensors, type NamedTensor } from '../runs/safetensors';
import { exportBundle } from '../export/exportBundle';
import { importHfCheckpoint } from './hfCheckpoint';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-import-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let backend: BackendInfo;
let gptRun: string;
let bertRun: string;

before(async () => {
  backend = await selectBackend('cpu');
  gptRun = await tinyRun(path.join(root, 'gpt'), TINY_GPT);
  bertRun = await tinyRun(path.join(root, 'bert'), TINY_BERT, { tokenizer: tinyBertTokenizer });
});

/** A run's weights and configs as another tool would write a Hugging Face folder: `rename` maps our names to the file's, `extra` adds tensors. */
async function hfFolder(runDir: string, name: string, o: { rename?: (n: string) => string | null; extra?: NamedTensor[]; config?: Record<string, unknown> } = {}): Promise<string> {
  const ck = (await latestValidCheckpoint(runDir, { optimizer: false }))!;
  const run = parseRunConfig((await readRunJson(runDir)).config, 'run.json');
  const rm = await loadRunModel(runDir);
  const c = rm.modelConfig;
  rm.model.dispose();
  assert.equal(run.task, 'pretrain');
  const tensors: NamedTensor[] = [];
  for (const [n, t] of ck.params) {
    const renamed = o.rename ? o.rename(n) : n;
    if (renamed !== null) tensors.push({ name: renamed, dtype: 'F32', shape: t.shape, data: t.data });
  }
  tensors.push(...(o.extra ?? []));
  const config = c.arch === 'gpt'
    ? { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], vocab_size: c.vocabSize, n_positions: c.contextLength, n_embd: c.dModel, n_head: c.nHeads, n_layer: c.nLayers, n_inner: null, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5 }
    : { model_type: 'bert', architectures: ['BertForPreTraining'], vocab_size: c.vocabSize, max_position_embeddings: c.contextLength, hidden_size: c.dModel, num_attention_heads: c.nHeads, num_hidden_layers: c.nLayers, intermediate_size: 32, type_vocab_size: 2, hidden_act: 'gelu', layer_norm_eps: 1e-12 };
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, ...o.config }));
  fs.writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));
  fs.copyFileSync(path.join(runDir, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  return dir;
}

function logitsOf(rm: RunModel, ids: number[]): Float32Array {
  return tf.tidy(() => {
    const batch = { inputIds: tf.tensor2d([ids], undefined, 'int32') };
    const { hidden } = rm.model.forward(batch);
    return (rm.model instanceof GPT ? rm.model.lmLogits(hidden) : rm.model.mlmLogits(hidden)).dataSync() as Float32Array;
  });
}

async function sameLogits(original: string, imported: string): Promise<void> {
  const a = await loadRunModel(original);
  const b = await loadRunModel(imported);
  try {
    const ids = a.tokenizer.encode('ROMEO: and what').slice(0, 12);
    assert.deepEqual(b.tokenizer.encode('ROMEO: and what').slice(0, 12), ids);
    assert.deepEqual(logitsOf(b, ids), logitsOf(a, ids));
  } finally {
    a.model.dispose(); b.model.dispose();
  }
}

const gpt2Layout = (n: string) => `transformer.${n}`;

describe('importing a Hugging Face checkpoint folder', () => {
  it('GPT2LMHeadModel: transformer. prefix, attn.bias buffers and the tied lm_head, opened with the same logits', async () => {
    const ck = (await latestValidCheckpoint(gptRun, { optimizer: false }))!;
    const wte = ck.params.get('wte.weight')!;
    const buffers: NamedTensor[] = [0, 1].flatMap((i) => [
      { name: `transformer.h.${i}.attn.bias`, dtype: 'F32' as const, shape: [1, 1, 24, 24], data: new Float32Array(576).fill(1) },
      { name: `transformer.h.${i}.attn.masked_bias`, dtype: 'F32' as const, shape: [], data: Float32Array.of(-1e4) },
    ]);
    const src = await hfFolder(gptRun, 'gpt2-hf', { rename: gpt2Layout, extra: [...buffers, { name: 'lm_head.weight', dtype: 'F32', shape: wte.shape, data: wte.data }] });
    const phases: string[] = [];
    const r = await importHfCheckpoint(src, path.join(root, 'gpt2-run'), { backend, onProgress: (p) => phases.push(p) });
    assert.deepEqual(phases, ['checking', 'reading weights', 'writing run']);
    assert.equal(r.config.source.architecture, 'GPT2LMHeadModel');
    assert.deepEqual(r.config.source.files.map((f) => f.file), ['config.json', 'tokenizer.json', 'model.safetensors']);
    const run = await readRunJson(r.runDir);
    assert.equal(run.status, 'completed');
    await sameLogits(gptRun, r.runDir);
    assert.deepEqual(fs.readdirSync(root).filter((n) => n.startsWith('.')), [], 'no temporary folder is left');
  });

  it('BertForMaskedLM without prefixes, with gamma/beta names and a position_ids buffer: the NSP head initialised and said so', async () => {
    const src = await hfFolder(bertRun, 'bert-hf', {
      rename: (n) => (n.startsWith('bert.pooler') || n.startsWith('cls.seq_relationship') ? null
        : n.replace(/^bert\./, '').replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta')),
      extra: [{ name: 'embeddings.position_ids', dtype: 'I32', shape: [1, 24], data: Int32Array.from({ length: 24 }, (_, i) => i) }],
      config: { architectures: ['BertForMaskedLM'] },
    });
    const r = await importHfCheckpoint(src, path.join(root, 'bert-run'), { backend });
    assert.match(r.config.notes.join('\n'), /no next-sentence head \(pooler, seq_relationship\): it is initialised at random/);
    await sameLogits(bertRun, r.runDir);
    const rm = await loadRunModel(r.runDir);
    rm.model.dispose();
    assert.match(rm.notes.join('\n'), /next-sentence head/, 'loadRunModel passes the notes on to every reader');
  });

  it('refuses what it cannot import faithfully, naming the file and the tensor or option', async () => {
    const refuses = async (src: string, message: RegExp, out = path.join(root, `out-${Math.random().toString(36).slice(2)}`)) => {
      await assert.rejects(importHfCheckpoint(src, out, { backend }), (e: Error) => message.test(e.message));
      assert.equal(fs.existsSync(out), false, 'nothing is written when refused');
    };
    const base = await hfFolder(gptRun, 'base', { rename: gpt2Layout });
    const variant = async (name: string, o: Parameters<typeof hfFolder>[2]) => hfFolder(gptRun, name, { rename: gpt2Layout, ...o });

    const pickle = path.join(root, 'pickle');
    fs.mkdirSync(pickle);
    for (const f of ['config.json', 'tokenizer.json']) fs.copyFileSync(path.join(base, f), path.join(pickle, f));
    fs.writeFileSync(path.join(pickle, 'pytorch_model.bin'), 'not read');
    await refuses(pickle, /pytorch_model\.bin but no model\.safetensors; the workbench reads safetensors only, because loading a \.bin file \(a Python pickle\) runs code/);

    await refuses(await variant('t5', { config: { model_type: 't5' } }), /model_type "t5" is not an architecture the workbench builds; it imports gpt2 and bert/);
    await refuses(await variant('layer-idx', { config: { scale_attn_by_inverse_layer_idx: true } }), /scale_attn_by_inverse_layer_idx.*not supported/);
    await refuses(await variant('missing', { rename: (n) => (n === 'h.1.ln_2.bias' ? null : gpt2Layout(n)) }), /lacks tensor 'h\.1\.ln_2\.bias' of shape \[16\]/);
    await refuses(await variant('extra', { extra: [{ name: 'transformer.h.9.ln_1.weight', dtype: 'F32', shape: [16], data: new Float32Array(16) }] }), /1 tensor a GPT-2 of this config\.json does not have: transformer\.h\.9\.ln_1\.weight/);
    await refuses(await variant('shape', { config: { n_inner: 32 } }), /tensor 'h\.0\.mlp\.c_fc\.weight' has shape \[16,64\], the model of this config\.json needs \[16,32\]/);
    await refuses(await variant('untied', { extra: [{ name: 'lm_head.weight', dtype: 'F32', shape: [1, 1], data: new Float32Array(1) }] }), /'lm_head\.weight' differs from 'wte\.weight'/);

    const broken = await variant('broken', {});
    fs.appendFileSync(path.join(broken, 'model.safetensors'), Buffer.alloc(3));
    await refuses(broken, /model\.safetensors: has \d+ bytes of tensor data but its header accounts for \d+ \(truncated or padded\); it is not a valid safetensors file/);

    const full = path.join(root, 'full-out');
    fs.mkdirSync(full);
    fs.writeFileSync(path.join(full, 'keep.txt'), 'mine');
    await assert.rejects(importHfCheckpoint(base, full, { backend }), /exists and is not empty; choose another --out folder/);
    assert.equal(fs.readFileSync(path.join(full, 'keep.txt'), 'utf8'), 'mine');
  });

  it('round trip: a BERT run exported as a bundle imports back with the same logits, and the imported run exports again', async () => {
    const bundle = path.join(root, 'bert-bundle');
    await exportBundle(bertRun, 'last', bundle);
    const r = await importHfCheckpoint(bundle, path.join(root, 'bert-from-bundle'), { backend });
    assert.equal(r.config.source.architecture, 'BertForMaskedLM', 'an mlm run exports without the next-sentence head');
    await sameLogits(bertRun, r.runDir);
    const again = await exportBundle(r.runDir, 'last', path.join(root, 'bert-bundle-again'));
    assert.ok(again.report.checks.every((c) => c.ok), JSON.stringify(again.report.checks));
    assert.match(fs.readFileSync(path.join(again.outDir, 'README.md'), 'utf8'), /## Source\n\nImported with `workbench import` from a Hugging Face bert checkpoint folder \(BertForMaskedLM\)/);
  });

  it('a cancel while the run is being written leaves nothing under the final name', async () => {
    const src = await hfFolder(gptRun, 'cancel-src', { rename: gpt2Layout });
    const out = path.join(root, 'cancelled-run');
    const controller = new AbortController();
    await assert.rejects(
      importHfCheckpoint(src, out, { backend, signal: controller.signal, onProgress: (p) => { if (p === 'writing run') controller.abort(); } }),
      /import cancelled/,
    );
    assert.equal(fs.existsSync(out), false);
    assert.deepEqual(fs.readdirSync(root).filter((n) => n.startsWith('.')), []);
  });
});
