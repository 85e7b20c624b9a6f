/**
 * `workbench export-torch` without PyTorch (the parity with PyTorch is torchExport.cross.ts): the project's files,
 * the initial weights as the engine's seeded init, the dataset as the engine's token stream, launch.sh's default
 * process count, and the refusals — options not ported, a batch that does not split, a non-empty --out.
 *
 *   node --import tsx --test engine/torchExport/exportTorch.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PretrainRunSpec, runModelConfig, type PretrainRunSpecInput } from '../../common/runConfig';
import { main } from '../cli/main';
import { createModel } from '../models/registry';
import { decodeSafetensors } from '../runs/safetensors';
import { useBackend } from '../testing';
import { PROJECT_FILES, TORCH_CONFIG_FILE, exportTorchProject } from './exportTorch';

const TEXT = Array.from({ length: 60 }, (_, i) => `Citizen ${i}:\nBefore we proceed any further, hear me speak of ${i * 7} things.`).join('\n\n');
const input: PretrainRunSpecInput = {
  name: 'tiny',
  dataset: { source: { kind: 'file', path: 'small.txt', unit: 'paragraph' }, split: 'tail', validationFraction: 0.1 },
  tokenizer: { kind: 'char' },
  model: { arch: 'gpt', contextLength: 16, dModel: 16, nHeads: 2, nLayers: 1 },
  pretrain: { steps: 4, batchSize: 4, evalBatches: 1, seed: 11, schedule: { warmupSteps: 1 } },
};

let tmp: string;
before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'export-torch-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), TEXT);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const spec = (patch: Partial<PretrainRunSpecInput['model']> = {}) => PretrainRunSpec.parse({ ...input, model: { ...input.model, ...patch } });

describe('export-torch', () => {
  it('writes the project, the engine\'s seeded initial weights and its token stream', async () => {
    const r = await exportTorchProject(spec(), path.join(tmp, 'project'), { baseDir: tmp, cacheDir: null, processes: 2, cellId: 'pretrain' });
    const names = r.files.map((f) => f.file);
    for (const f of [...PROJECT_FILES, TORCH_CONFIG_FILE, 'tokenizer.json', 'init.safetensors', 'data/train.tokens.bin', 'data/validation.tokens.bin']) assert.ok(names.includes(f), `${f} is missing`);
    const cfg = JSON.parse(fs.readFileSync(path.join(r.outDir, TORCH_CONFIG_FILE), 'utf8'));
    assert.equal(cfg.training.objective, 'causal-lm');
    assert.equal(cfg.runConfig.task, 'pretrain');
    assert.equal(cfg.cellId, 'pretrain', 'train.py records the cell in run.json, for the notebook to list the run under it');
    assert.ok(cfg.decay.includes('wte.weight') && !cfg.decay.includes('h.0.ln_1.weight'), 'decay on matrices only');
    // the same numbers as a model the engine initialises from the seed now
    const vocab = cfg.model.vocabSize;
    const model = createModel(runModelConfig(spec().model, vocab), 11);
    const init = decodeSafetensors(fs.readFileSync(path.join(r.outDir, 'init.safetensors'))).tensors;
    assert.deepEqual([...init.keys()].sort(), model.params.names.sort());
    for (const name of model.params.names) assert.deepEqual(Array.from(init.get(name)!.data), Array.from(model.params.get(name).dataSync()), name);
    model.dispose();
    // the char stream: every character of the training split, ids below the vocabulary
    const train = new Int32Array(fs.readFileSync(path.join(r.outDir, 'data/train.tokens.bin')).buffer.slice(0));
    assert.ok(train.length > 0.8 * TEXT.length && train.every((t) => t >= 0 && t < vocab));
    const launch = fs.readFileSync(path.join(r.outDir, 'launch.sh'), 'utf8');
    assert.match(launch, /NPROC_PER_NODE:-2\}/);
    assert.ok(fs.statSync(path.join(r.outDir, 'launch.sh')).mode & 0o100, 'launch.sh is executable');
  });

  it('refuses what it does not port, naming the field and the way out', async () => {
    await assert.rejects(exportTorchProject(spec({ attention: 'linear' }), path.join(tmp, 'linear'), { baseDir: tmp, cacheDir: null }), /model\.attention: linear attention is not ported.*set attention to 'softmax'/);
    await assert.rejects(exportTorchProject(spec({ moe: { experts: 2, topK: 1 } }), path.join(tmp, 'moe'), { baseDir: tmp, cacheDir: null }), /model\.moe: mixture-of-experts .* remove moe/);
    await assert.rejects(exportTorchProject(spec(), path.join(tmp, 'three'), { baseDir: tmp, cacheDir: null, processes: 3 }), /--processes 3: the batch of 4 sequences cannot be split evenly/);
    await assert.rejects(exportTorchProject(spec(), path.join(tmp, 'project'), { baseDir: tmp, cacheDir: null }), /is not empty.*--overwrite/);
    await assert.rejects(exportTorchProject(spec(), tmp, { baseDir: tmp, cacheDir: null, overwrite: true }), /holds the experiment; export into a folder of its own/);
    for (const dir of ['linear', 'moe', 'three']) assert.equal(fs.existsSync(path.join(tmp, dir)), false, `${dir} was written`);
  });

  it('the command line: missing --out is a usage error (exit 2); an experiment without a pretrain cell fails (exit 1)', async () => {
    const file = path.join(tmp, 'x.experiment.json');
    fs.writeFileSync(file, JSON.stringify({ format: 'transformer-workbench.experiment', version: 2, name: 'x', cells: [] }));
    const err = captureStderr();
    try {
      assert.equal(await main(['export-torch', file]), 2);
      assert.equal(await main(['export-torch', file, '--out', path.join(tmp, 'x')]), 1);
    } finally {
      err.restore();
    }
    assert.match(err.text(), /export-torch needs --out DIR/);
    assert.match(err.text(), /has no pretrain cell/);
  });
});

function captureStderr(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => { chunks.push(String(c)); return true; }) as typeof process.stderr.write;
  return { text: () => chunks.join(''), restore: () => { process.stderr.write = write; } };
}
