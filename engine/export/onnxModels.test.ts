/**
 * The ONNX graphs against the engine on models with random weights (a trained bundle is checked in
 * exportBundle.test.ts): float32 logits within 1e-4, int8 logits within INT8_TOLERANCE, on GPT-2 and BERT
 * with both activations and a padded probe, and on their sequence classifiers (class logits [B, numLabels],
 * GPT-2's from each row's last real token); a graph built from other weights is caught.
 *
 *   node --import tsx --test engine/export/onnxModels.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveModelConfig, ModelConfig, type ModelConfigInput } from '../../common/modelConfig';
import { relError } from '../golden/golden';
import * as ort from 'onnxruntime-node';
import { createModel, type AnyModel } from '../models/registry';
import { useBackend } from '../testing';
import { bundleOnnx, gptOnnx } from './onnxModels';
import { INT8_TOLERANCE, paramSource } from './verify';
import { engineLogits, makeProbe, onnxLogits } from './probe';

let tmp: string;
before(async () => { await useBackend('cpu'); tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-models-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function compare(input: ModelConfigInput, int8: boolean, weightsFrom?: AnyModel): Promise<{ err: number; bytes: number }> {
  const model = createModel(input, 11);
  try {
    const c = resolveModelConfig(ModelConfig.parse(input));
    const file = path.join(tmp, `${c.arch}-${int8}-${Math.random()}.onnx`);
    fs.writeFileSync(file, bundleOnnx(c, paramSource((weightsFrom ?? model).params), { int8 }));
    const p = makeProbe(c);
    return { err: relError(await onnxLogits(file, p), engineLogits(model, p)), bytes: fs.statSync(file).size };
  } finally {
    model.dispose();
  }
}

const GPT: ModelConfigInput = { arch: 'gpt', vocabSize: 61, contextLength: 12, dModel: 16, nHeads: 2, nLayers: 2, initStd: 0.2 };
const BERT: ModelConfigInput = { arch: 'bert', vocabSize: 57, contextLength: 10, dModel: 12, nHeads: 3, nLayers: 2, dFF: 20, initStd: 0.2 };

describe('ONNX graphs', () => {
  for (const [name, cfg] of [['GPT-2', GPT], ['GPT-2 with exact gelu', { ...GPT, activation: 'gelu' }], ['BERT', BERT], ['BERT with gelu_new', { ...BERT, activation: 'gelu_new' }],
    ['GPT-2 classifier', { ...GPT, numLabels: 4 }], ['BERT classifier', { ...BERT, numLabels: 3 }]] as const) {
    it(`${name}: float32 logits within 1e-4 of the engine, int8 within ${INT8_TOLERANCE}`, async () => {
      const f = await compare(cfg, false);
      assert.ok(f.err <= 1e-4, `float32 relative error ${f.err}`);
      const q = await compare(cfg, true);
      process.stdout.write(`# ${name}: float32 ${f.err.toExponential(2)}, int8 ${q.err.toExponential(2)}\n`);
      assert.ok(q.err <= INT8_TOLERANCE, `int8 relative error ${q.err}`);
      assert.ok(q.err > f.err, 'the int8 graph computes in int8 (its error exceeds float32\'s)');
    });
  }

  it('GPT-2\'s key/value cache: a prefix, then three tokens on its cache, give the logits of the whole sequence', async () => {
    const c = resolveModelConfig(ModelConfig.parse(GPT));
    const model = createModel(GPT, 11);
    const file = path.join(tmp, 'gpt-cache.onnx');
    fs.writeFileSync(file, gptOnnx(c, paramSource(model.params), { int8: false }));
    model.dispose();
    const session = await ort.InferenceSession.create(file);
    try {
      const ids = [5, 17, 3, 42, 8, 60, 1, 33, 12, 9];
      const run = async (from: number, to: number, past: Record<string, ort.Tensor>) => {
        const i64 = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
        const positions = Array.from({ length: to - from }, (_, i) => from + i);
        const empty = new ort.Tensor('float32', new Float32Array(0), [1, c.nHeads, 0, c.headDim]);
        const cache = Object.fromEntries(session.inputNames.filter((n) => n.startsWith('past_key_values.')).map((n) => [n, past[n.replace('past_key_values', 'present')] ?? empty]));
        return session.run({ input_ids: i64(ids.slice(from, to)), attention_mask: i64(Array(to).fill(1)), position_ids: i64(positions), ...cache });
      };
      const whole = await run(0, 10, {});
      const prefix = await run(0, 7, {});
      assert.deepEqual(prefix['present.1.key'].dims, [1, 2, 7, 8]);
      const step = await run(7, 10, prefix);
      assert.deepEqual(step['present.0.value'].dims, [1, 2, 10, 8]);
      const V = c.vocabSize;
      assert.ok(relError(step.logits.data as Float32Array, (whole.logits.data as Float32Array).slice(7 * V)) <= 1e-5);
      assert.ok(relError(prefix.logits.data as Float32Array, (whole.logits.data as Float32Array).slice(0, 7 * V)) <= 1e-5);
    } finally {
      await session.release();
    }
  });

  it('a classifier\'s graph: input_ids and attention_mask in, logits [batch_size, num_labels] out; GPT-2 reads each row\'s last real token', async () => {
    const input: ModelConfigInput = { ...GPT, numLabels: 4 };
    const c = resolveModelConfig(ModelConfig.parse(input));
    const model = createModel(input, 11);
    const file = path.join(tmp, 'gpt-classifier.onnx');
    fs.writeFileSync(file, bundleOnnx(c, paramSource(model.params), { int8: false }));
    model.dispose();
    const session = await ort.InferenceSession.create(file);
    try {
      assert.deepEqual([...session.inputNames], ['input_ids', 'attention_mask']);
      const i64 = (v: number[], T: number) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length / T, T]);
      const ids = [5, 17, 3, 42, 8, 60];
      const alone = (await session.run({ input_ids: i64(ids.slice(0, 4), 4), attention_mask: i64([1, 1, 1, 1], 4) })).logits;
      // the same text padded on the right with other ids: the padding must not reach the logits
      const padded = (await session.run({ input_ids: i64(ids, 6), attention_mask: i64([1, 1, 1, 1, 0, 0], 6) })).logits;
      assert.deepEqual(padded.dims, [1, 4]);
      assert.ok(relError(padded.data as Float32Array, alone.data as Float32Array) <= 1e-5);
      const unpadded = (await session.run({ input_ids: i64(ids, 6), attention_mask: i64([1, 1, 1, 1, 1, 1], 6) })).logits;
      assert.ok(relError(unpadded.data as Float32Array, alone.data as Float32Array) > 1e-3, 'a longer text is read to its own last token');
    } finally {
      await session.release();
    }
  });

  it('a graph of other weights is caught', async () => {
    const other = createModel(GPT, 12);
    try {
      assert.ok((await compare(GPT, false, other)).err > 1e-2);
    } finally {
      other.dispose();
    }
  });
});
