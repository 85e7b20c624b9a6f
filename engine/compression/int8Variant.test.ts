/**
 * The int8 variant end to end on tiny trained runs: written beside its base, int8 on disk (codes and scales
 * exactly the quantizer's), opened through loadRunModel as the quantized model, measured, exported.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { EngineError } from '../../common/errors';
import { exportBundle } from '../export/exportBundle';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { checkpointsDir, MODEL_FILE } from '../runs/checkpoint';
import { loadRunModel } from '../runs/loadRunModel';
import { decodeSafetensors } from '../runs/safetensors';
import { resolveDerivedRun } from '../training/derivedRun';
import { useBackend } from '../testing';
import { isInt8Run, writeInt8Variant, type Int8RunConfig } from './int8Variant';
import { quantizeInt8PerChannel } from './quantize';

let tmp: string;
let gpt: string;
let bert: string;

async function int8Config(baseRunDir: string, settings: object): Promise<Int8RunConfig> {
  const config = await resolveDerivedRun({ task: 'compress', baseRunDir, baseCheckpoint: 'last', settings: { method: 'int8', measure: { batchSize: 4, evalBatches: 2 }, ...settings } });
  assert.ok(config.task === 'compress' && isInt8Run(config));
  return config;
}

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-variant-'));
  gpt = await tinyRun(path.join(tmp, 'gpt'), TINY_GPT);
  bert = await tinyRun(path.join(tmp, 'bert'), TINY_BERT, { tokenizer: tinyBertTokenizer });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('int8 variant', () => {
  it('GPT, dynamic activations: int8 on disk with the quantizer\'s exact codes and scales, opened as the quantized model, measured in TF.js and ONNX Runtime', async () => {
    const config = await int8Config(gpt, {});
    const r = await writeInt8Variant(config, path.dirname(gpt), 'gpt int8', { cacheDir: null });
    assert.equal(path.dirname(r.runDir), path.dirname(gpt), 'the variant sits beside its base');

    const ckDir = path.join(checkpointsDir(r.runDir), 'step-00000000');
    const { tensors } = decodeSafetensors(fs.readFileSync(path.join(ckDir, MODEL_FILE)));
    const base = await loadRunModel(gpt, 'last');
    try {
      let int8Count = 0;
      for (const [name, v] of base.model.params.variables) {
        const stored = tensors.get(name)!;
        if (v.rank !== 2 || name === 'wpe.weight') { assert.equal(stored.fileDtype, 'F32', `${name} stays float32`); continue; }
        int8Count++;
        assert.equal(stored.fileDtype, 'I8', `${name} is int8 on disk`);
        const axis = /^h\.\d+\.(attn|mlp)\./.test(name) ? 1 : 0;
        const q = quantizeInt8PerChannel(v, axis);
        assert.deepEqual(Int8Array.from(stored.data), q.q, `${name}: codes`);
        assert.deepEqual(tensors.get(`${name}_scale`)!.data, q.scale, `${name}: scales`);
        assert.deepEqual(tensors.get(`${name}_scale`)!.shape, axis === 0 ? [q.scale.length, 1] : [1, q.scale.length]);
      }
      assert.equal(int8Count, r.int8Weights);
      assert.ok(int8Count >= 9, 'wte and every projection');
    } finally {
      base.model.dispose();
    }
    // a quarter of the bytes for what is int8: the file is the float tensors, the scales and one byte per code
    const floatBytes = [...tensors.values()].filter((t) => t.fileDtype === 'F32').reduce((n, t) => n + 4 * t.data.length, 0);
    const codeBytes = [...tensors.values()].filter((t) => t.fileDtype === 'I8').reduce((n, t) => n + t.data.length, 0);
    const header = r.bytes - floatBytes - codeBytes;
    assert.ok(header > 0 && header < 4096, `header ${header} bytes`);
    const scaleBytes = [...tensors.keys()].filter((n) => n.endsWith('_scale')).reduce((n, k) => n + 4 * tensors.get(k)!.data.length, 0);
    assert.ok(Math.abs(r.baseBytes - r.bytes - (3 * codeBytes - scaleBytes)) < 4096, `${r.bytes} bytes vs the base's ${r.baseBytes}: 3 bytes saved per code, less the scales`);

    const rm = await loadRunModel(r.runDir, 'last');
    try {
      assert.ok(rm.quantization && rm.model.activationView, 'opened with its quantization and the activation view set');
      const wte = tensors.get('wte.weight')!;
      const scale = tensors.get('wte.weight_scale')!.data;
      const opened = rm.model.params.get('wte.weight').dataSync();
      const d = wte.shape[1];
      for (let i = 0; i < opened.length; i += 7) assert.equal(opened[i], Math.fround(wte.data[i] * scale[Math.floor(i / d)]), `wte[${i}] dequantized`);
      assert.equal(rm.checkpoint.valLoss, r.quality.variant.loss);
    } finally {
      rm.model.dispose();
    }
    for (const v of [r.quality.base.loss, r.quality.variant.loss, r.quality.onnxInt8.lmLoss]) assert.ok(Number.isFinite(v) && v > 0);
    // the same quantized model in two runtimes: the LM losses agree closely
    const tfjsLm = Math.log(r.quality.variant.perplexity);
    assert.ok(Math.abs(r.quality.onnxInt8.lmLoss - tfjsLm) < 0.01 * tfjsLm, `ONNX Runtime ${r.quality.onnxInt8.lmLoss} vs TF.js ${tfjsLm}`);
    const metrics = fs.readFileSync(path.join(r.runDir, 'metrics.jsonl'), 'utf8');
    assert.match(metrics, /"val\/loss"/);
    const run = JSON.parse(fs.readFileSync(path.join(r.runDir, 'run.json'), 'utf8'));
    assert.equal(run.status, 'completed');
    assert.equal(run.config.base.runDir, gpt);
  });

  it('BERT, static percentile activations: every int8 projection gets a calibrated scale; the export writes the variant\'s codes and checks out', async () => {
    const config = await int8Config(bert, { activations: { mode: 'static', observer: 'percentile', percentile: 99.9, calibrationBatches: 2 } });
    const r = await writeInt8Variant(config, path.join(tmp, 'variants'), 'bert int8', { cacheDir: null });
    assert.equal(r.activations.mode, 'static');
    const rm = await loadRunModel(r.runDir, 'last');
    try {
      const scales = rm.quantization!.activationScales!;
      for (const site of ['bert.encoder.layer.0.attention.self.query', 'bert.encoder.layer.1.output.dense', 'cls.predictions.transform.dense']) {
        assert.ok(scales[site] > 0, `${site} calibrated`);
      }
      assert.ok(!('bert.encoder.layer.0.attention.self.key' in scales), 'key and value share the query\'s input');
    } finally {
      rm.model.dispose();
    }
    const out = path.join(tmp, 'bundle');
    const bundle = await exportBundle(r.runDir, 'last', out);
    assert.ok(bundle.report.ok, JSON.stringify(bundle.report.checks));
    const size = (f: string) => fs.statSync(path.join(out, f)).size;
    // the word embeddings alone save 3 bytes a value when the int8 graph holds them as int8
    const [V, d] = rm.modelConfig.vocabSize ? [rm.modelConfig.vocabSize, rm.modelConfig.dModel] : [0, 0];
    assert.ok(size('onnx/model.onnx') - size('onnx/model_quantized.onnx') > 3 * V * d, `int8 graph ${size('onnx/model_quantized.onnx')} vs float ${size('onnx/model.onnx')} bytes`);
    // the int8 graph holds the variant's own codes and scales: the word embeddings as stored, nn.Linear's transposed to [in, out]
    const init = new Map(onnxProto.onnx.ModelProto.decode(fs.readFileSync(path.join(out, 'onnx/model_quantized.onnx'))).graph!.initializer!.map((t) => [t.name!, t.rawData!]));
    const stored = decodeSafetensors(fs.readFileSync(path.join(checkpointsDir(r.runDir), 'step-00000000', MODEL_FILE))).tensors;
    const bytesOf = (a: ArrayLike<number>, T: typeof Int8Array | typeof Float32Array) => Buffer.from(T.from(a).buffer);
    assert.deepEqual(Buffer.from(init.get('bert.embeddings.word_embeddings.weight_quantized')!), bytesOf(stored.get('bert.embeddings.word_embeddings.weight')!.data, Int8Array));
    const dense = stored.get('bert.encoder.layer.1.output.dense.weight')!;
    const [rows, cols] = dense.shape;
    const transposedCodes = Int8Array.from({ length: rows * cols }, (_, i) => dense.data[(i % rows) * cols + Math.floor(i / rows)]);
    assert.deepEqual(Buffer.from(init.get('bert.encoder.layer.1.output.dense.weight_quantized')!), Buffer.from(transposedCodes.buffer));
    assert.deepEqual(Buffer.from(init.get('bert.encoder.layer.1.output.dense.weight_scale')!), bytesOf(stored.get('bert.encoder.layer.1.output.dense.weight_scale')!.data, Float32Array));
    const tfjsLm = Math.log(r.quality.variant.perplexity);
    assert.ok(Math.abs(r.quality.onnxInt8.lmLoss - tfjsLm) < 0.02 * tfjsLm, `ONNX Runtime ${r.quality.onnxInt8.lmLoss} vs TF.js ${tfjsLm}`);
  });

  it('bad settings are refused naming the field; an int8 variant is not a base', async () => {
    await assert.rejects(int8Config(gpt, { activations: { mode: 'sometimes' } }), (e: EngineError) => e.code === 'INVALID_CONFIG' && e.path?.join('.') === 'compress.activations.mode');
    await assert.rejects(int8Config(gpt, { keepFloat: 'wte.weight' }), (e: EngineError) => e.path?.join('.') === 'compress.keepFloat');
    const variants = path.join(tmp, 'variants');
    const dir = fs.readdirSync(variants).map((d) => path.join(variants, d))[0];
    await assert.rejects(int8Config(dir, {}), (e: EngineError) => e.code === 'INVALID_CONFIG' && /is an int8 variant/.test(e.message));
  });
});


