/**
 * Bundles open elsewhere: transformers.js (@huggingface/transformers, local files only, no network) loads
 * the exported bundles of a tiny trained GPT and BERT run (the shipped examples under test:cross, engine/export/bundleRuns.testing.ts) — config.json, tokenizer.json and the ONNX files —
 * tokenizes as the engine does and gives the engine's logits: GPT next-token logits and greedy generation
 * (through the ONNX key/value cache), BERT masked-LM logits and the fill-mask pipeline's ranking; the int8
 * file within its stated tolerance.
 *
 *   node --import tsx --test engine/export/transformersJs.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer, env, pipeline, type Tensor } from '@huggingface/transformers';
import { relError } from '../golden/golden';
import { encodeInput } from '../inspect/attentionMaps';
import { fillMask } from '../inspect/fillMask';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { BERT } from '../models/bert/model';
import { GPT } from '../models/gpt/model';
import { loadRunModel, type RunModel } from '../runs/loadRunModel';
import { useBackend } from '../testing';
import { bundleRuns } from './bundleRuns.testing';
import { exportBundle } from './exportBundle';
import { FLOAT_TOLERANCE, INT8_TOLERANCE } from './verify';

let tmp: string;
let gpt: RunModel;
let bert: RunModel;

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'export-tjs-'));
  const { gpt: gptRun, bert: bertRun } = await bundleRuns(tmp, {
    gpt: () => tinyRun(path.join(tmp, 'gpt'), { ...TINY_GPT, contextLength: 32 }, { pretrain: { steps: 20, evalInterval: 10 } }),
    bert: () => tinyRun(path.join(tmp, 'bert'), TINY_BERT, { tokenizer: tinyBertTokenizer, pretrain: { steps: 20, evalInterval: 10 } }),
  });
  await exportBundle(gptRun, 'last', path.join(tmp, 'bundles', 'gpt'));
  await exportBundle(bertRun, 'last', path.join(tmp, 'bundles', 'bert'));
  gpt = await loadRunModel(gptRun, 'last');
  bert = await loadRunModel(bertRun, 'last');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.join(tmp, 'bundles') + path.sep;
});
after(() => {
  gpt?.model.dispose();
  bert?.model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const ids = (t: Tensor) => Array.from(t.data as BigInt64Array, Number);

/** The engine's greedy continuation: the prompt and `n` tokens, each the argmax over the whole sequence so far. */
function greedy(model: GPT, prompt: number[], n: number): number[] {
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    seq.push(tf.tidy(() => {
      const logits = model.lmLogits(model.forward({ inputIds: tf.tensor2d(seq, [1, seq.length], 'int32') }).hidden); // [1, T, V]
      return tf.argMax(tf.reshape(tf.slice(logits, [0, seq.length - 1, 0], [1, 1, -1]), [-1])).dataSync()[0];
    }));
  }
  return seq;
}

describe('transformers.js loads the bundles', () => {
  it('GPT: its tokenizer gives the engine\'s ids, its model the engine\'s next-token logits (float32 and int8)', async () => {
    const text = 'ROMEO: O, speak again!';
    const tok = await AutoTokenizer.from_pretrained('gpt', { local_files_only: true });
    const enc = tok(text);
    const engineIds = gpt.tokenizer.encode(text);
    assert.deepEqual(ids(enc.input_ids), engineIds);
    const model = gpt.model as GPT;
    const expected = tf.tidy(() => model.lmLogits(model.forward({ inputIds: tf.tensor2d(engineIds, [1, engineIds.length], 'int32') }).hidden).dataSync());
    for (const [dtype, tolerance] of [['fp32', FLOAT_TOLERANCE], ['q8', INT8_TOLERANCE]] as const) {
      const m = await AutoModelForCausalLM.from_pretrained('gpt', { dtype, local_files_only: true });
      try {
        const { logits } = await m(enc) as { logits: Tensor };
        assert.deepEqual(logits.dims, [1, engineIds.length, gpt.modelConfig.vocabSize]);
        const err = relError(logits.data as Float32Array, expected);
        process.stdout.write(`# GPT ${dtype}: relative error ${err.toExponential(2)}\n`);
        assert.ok(err <= tolerance, `${dtype}: ${err}`);
        if (dtype === 'fp32') assert.deepEqual(ids((await m.generate({ ...enc, max_new_tokens: 8, do_sample: false })) as Tensor), greedy(model, engineIds, 8));
      } finally {
        await m.dispose();
      }
    }
  });

  it('BERT: [CLS] … [SEP] framing, the engine\'s masked-LM logits, and fill-mask ranks as the engine does', async () => {
    const text = 'the king is [MASK] , long live the king';
    const tok = await AutoTokenizer.from_pretrained('bert', { local_files_only: true });
    const enc = tok(text);
    const model = bert.model as BERT;
    const input = encodeInput(bert.tokenizer, model.config, text);
    assert.deepEqual(ids(enc.input_ids), input.ids);
    assert.deepEqual(ids(enc.token_type_ids!), input.tokenTypeIds);
    const T = input.ids.length;
    const expected = tf.tidy(() => model.mlmLogits(model.forward({ inputIds: tf.tensor2d(input.ids, [1, T], 'int32'), tokenTypeIds: tf.tensor2d(input.tokenTypeIds!, [1, T], 'int32') }).hidden).dataSync());
    for (const [dtype, tolerance] of [['fp32', FLOAT_TOLERANCE], ['q8', INT8_TOLERANCE]] as const) {
      const m = await AutoModelForMaskedLM.from_pretrained('bert', { dtype, local_files_only: true });
      try {
        const { logits } = await m(enc) as { logits: Tensor };
        const err = relError(logits.data as Float32Array, expected);
        process.stdout.write(`# BERT ${dtype}: relative error ${err.toExponential(2)}\n`);
        assert.ok(err <= tolerance, `${dtype}: ${err}`);
      } finally {
        await m.dispose();
      }
    }
    const fill = await pipeline('fill-mask', 'bert', { dtype: 'fp32', local_files_only: true });
    try {
      const got = await fill(text, { top_k: 5 }) as { token: number; score: number }[];
      const want = fillMask(model, bert.tokenizer, input, 5)[0].candidates;
      assert.deepEqual(got.map((g) => g.token), want.map((w) => w.id));
      assert.ok(relError(got.map((g) => g.score), want.map((w) => w.probability)) <= FLOAT_TOLERANCE);
    } finally {
      await fill.dispose();
    }
  });
});
