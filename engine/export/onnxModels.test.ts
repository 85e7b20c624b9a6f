/**
 * The ONNX graphs against the engine on models with random weights (a trained bundle is checked in
 * exportBundle.test.ts): float32 logits within 1e-4, int8 logits within INT8_TOLERANCE, on GPT-2 and BERT
 * with both activations and a padded probe; a graph built from other weights is caught.
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
import { createModel, type AnyModel } from '../models/registry';
import { useBackend } from '../testing';
import { bertOnnx, gptOnnx } from './onnxModels';
import { INT8_TOLERANCE, paramSource } from './verify';
import { engineLogits, makeProbe, onnxLogits } from './probe';

let tmp: string;
before(async () => { await useBackend('cpu'); tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-models-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function compare(input: ModelConfigInput, int8: boolean, weightsFrom?: AnyModel): Promise<{ err: number; bytes: number }> {
  const model = createModel(input, 11);
  try {
    const c = resolveModelConfig(ModelConfig.parse(input));
    const build = c.arch === 'gpt' ? gptOnnx : bertOnnx;
    const file = path.join(tmp, `${c.arch}-${int8}-${Math.random()}.onnx`);
    fs.writeFileSync(file, build(c, paramSource((weightsFrom ?? model).params), { int8 }));
    const p = makeProbe(c);
    return { err: relError(await onnxLogits(file, p), engineLogits(model, p)), bytes: fs.statSync(file).size };
  } finally {
    model.dispose();
  }
}

const GPT: ModelConfigInput = { arch: 'gpt', vocabSize: 61, contextLength: 12, dModel: 16, nHeads: 2, nLayers: 2, initStd: 0.2 };
const BERT: ModelConfigInput = { arch: 'bert', vocabSize: 57, contextLength: 10, dModel: 12, nHeads: 3, nLayers: 2, dFF: 20, initStd: 0.2 };

describe('ONNX graphs', () => {
  for (const [name, cfg] of [['GPT-2', GPT], ['GPT-2 with exact gelu', { ...GPT, activation: 'gelu' }], ['BERT', BERT], ['BERT with gelu_new', { ...BERT, activation: 'gelu_new' }]] as const) {
    it(`${name}: float32 logits within 1e-4 of the engine, int8 within ${INT8_TOLERANCE}`, async () => {
      const f = await compare(cfg, false);
      assert.ok(f.err <= 1e-4, `float32 relative error ${f.err}`);
      const q = await compare(cfg, true);
      process.stdout.write(`# ${name}: float32 ${f.err.toExponential(2)}, int8 ${q.err.toExponential(2)}\n`);
      assert.ok(q.err <= INT8_TOLERANCE, `int8 relative error ${q.err}`);
      assert.ok(q.err > f.err, 'the int8 graph computes in int8 (its error exceeds float32\'s)');
    });
  }

  it('a graph of other weights is caught', async () => {
    const other = createModel(GPT, 12);
    try {
      assert.ok((await compare(GPT, false, other)).err > 1e-2);
    } finally {
      other.dispose();
    }
  });
});
