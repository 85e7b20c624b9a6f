/**
 * loadRunModel opens the model of a run that completed, of one stopped midway, and of one whose process was
 * SIGKILLed while it trained (a real `workbench train` process): the weights are the checkpoint's, byte for
 * byte, the tokenizer is the run's, and the model computes. What it cannot open it refuses in words: a run
 * with no checkpoint yet, damaged weights, a config of a newer workbench, a checkpoint that does not exist.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DatasetConfig } from '../../common/datasetConfig';
import { RUN_JSON, readRunJson } from '../../common/node/runFiles';
import { PretrainConfig, type PretrainConfigInput } from '../../common/pretrainConfig';
import { pretrainSpecOf } from '../../common/runConfig';
import { TokenizerConfig } from '../../common/tokenizerConfig';
import type { GPT } from '../models/gpt/model';
import { useBackend } from '../testing';
import { Trainer, type RunSpec } from '../training/trainer';
import { listCheckpoints, readPointer } from './checkpoint';
import { decodeSafetensors } from './safetensors';
import { loadRunModel, type RunModel } from './loadRunModel';

const root = path.resolve(import.meta.dirname, '../..');
const SHAKESPEARE = path.resolve(root, '../shared/data/tinyshakespeare.txt');
let tmp: string;

const dataset = { source: { kind: 'file', path: 'small.txt', unit: 'file' }, split: 'tail', cleaning: { stripHtml: false, normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } } as const;
const model = { arch: 'gpt', contextLength: 16, dModel: 16, nHeads: 2, nLayers: 1 } as const;

function spec(pretrain: PretrainConfigInput): RunSpec {
  return {
    name: 'tiny', dataset: DatasetConfig.parse(dataset), tokenizer: TokenizerConfig.parse({ kind: 'char' }), model,
    pretrain: PretrainConfig.parse({ batchSize: 4, evalBatches: 1, seed: 3, schedule: { warmupSteps: 2 }, backend: 'cpu', ...pretrain }),
  };
}

async function train(pretrain: PretrainConfigInput, stopAt?: number) {
  const trainer: Trainer = await Trainer.start(spec(pretrain), path.join(tmp, 'runs'), {
    baseDir: tmp, cacheDir: null, onEvent: (e) => { if (stopAt !== undefined && e.type === 'step' && e.step === stopAt) trainer.stop(); },
  });
  return trainer.run();
}

/** The loaded model's weights are exactly those in the checkpoint's model.safetensors. */
function assertWeightsOf(m: RunModel) {
  const file = path.join(m.runDir, 'checkpoints', m.checkpoint.name, 'model.safetensors');
  const { tensors } = decodeSafetensors(fs.readFileSync(file));
  assert.deepEqual([...tensors.keys()].sort(), [...m.model.params.names].sort());
  for (const [name, t] of tensors) assert.deepEqual(m.model.params.get(name).dataSync(), t.data, name);
}

/** Next-token logits for a text the tokenizer encodes: the model and its tokenizer work together. */
function logitsOf(m: RunModel, text: string): Float32Array {
  const ids = m.tokenizer.encode(text);
  return tf.tidy(() => {
    const inputIds = tf.tensor2d(ids, [1, ids.length], 'int32');
    const gpt = m.model as GPT;
    return gpt.lmLogits(gpt.forward({ inputIds, labels: inputIds }).hidden).dataSync() as Float32Array;
  });
}

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'load-run-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 20_000));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('loadRunModel', () => {
  it('opens a completed run at its last and best checkpoints and at a checkpoint by name', async () => {
    const summary = await train({ steps: 8, evalInterval: 4, checkpointInterval: 4 });
    assert.equal(summary.status, 'completed');
    const last = await loadRunModel(summary.run_dir);
    assert.equal(last.checkpoint.step, 8);
    assert.equal(last.modelConfig.vocabSize, last.tokenizer.vocabSize, 'the vocabulary comes from the run\'s tokenizer');
    assert.equal(pretrainSpecOf(last.config)?.pretrain.steps, 8);
    assertWeightsOf(last);
    const logits = logitsOf(last, 'ROMEO: ');
    assert.equal(logits.length, 7 * last.tokenizer.vocabSize);
    assert.ok(logits.every(Number.isFinite));

    const best = await loadRunModel(summary.run_dir, 'best');
    assert.equal(best.checkpoint.name, (await readPointer(summary.run_dir, 'best'))!.checkpoint);
    const byName = await loadRunModel(summary.run_dir, 'step-00000004');
    assert.equal(byName.checkpoint.step, 4);
    assertWeightsOf(byName);
    assert.notDeepEqual(logitsOf(byName, 'ROMEO: '), logits, 'another checkpoint, other weights');
    for (const m of [last, best, byName]) m.model.dispose();
  });

  it('opens a run stopped midway at the checkpoint it stopped with', async () => {
    const summary = await train({ steps: 50, evalInterval: 25, checkpointInterval: 100 }, 5);
    assert.equal(summary.status, 'cancelled');
    const m = await loadRunModel(summary.run_dir);
    assert.equal(m.checkpoint.step, 5);
    assert.equal(m.run.status, 'cancelled');
    assertWeightsOf(m);
    m.model.dispose();
  });

  it('opens a run whose process was SIGKILLed while training, at its newest checkpoint that loads', async () => {
    const experiment = path.join(tmp, 'killed.experiment.json');
    fs.writeFileSync(experiment, JSON.stringify({
      format: 'transformer-workbench.experiment', version: 1, name: 'killed',
      cells: [
        { id: 'd', kind: 'dataset', dataset, tokenizer: { kind: 'char' } },
        { id: 'm', kind: 'model', model },
        { id: 'p', kind: 'pretrain', pretrain: { steps: 100_000, batchSize: 4, evalInterval: 1000, evalBatches: 1, checkpointInterval: 3, keepCheckpoints: 2, schedule: { warmupSteps: 2 }, backend: 'cpu' } },
      ],
    }));
    const child = spawn(process.execPath, [path.join(root, 'bin/workbench.js'), 'train', experiment, '--json'], { cwd: tmp, env: { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'] });
    const runDir = await new Promise<string>((resolve, reject) => {
      let buf = '';
      let dir = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        for (const line of buf.split('\n').slice(0, -1)) {
          const e = JSON.parse(line) as { type: string; step?: number; runDir?: string };
          if (e.type === 'status' && e.runDir) dir = e.runDir;
          if (e.type === 'checkpoint' && e.step! >= 6) resolve(dir);
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      });
      child.on('exit', (code) => reject(new Error(`workbench train exited (${code}) before its second checkpoint`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    assert.equal((await readRunJson(runDir)).status, 'running', 'a SIGKILL leaves run.json as it was');
    const newest = (await listCheckpoints(runDir)).pop()!;
    const m = await loadRunModel(runDir);
    assert.equal(m.checkpoint.name, newest.name);
    assertWeightsOf(m);
    m.model.dispose();
  });

  it('refuses, in words, what it cannot open', async () => {
    const summary = await train({ steps: 4, evalInterval: 2, checkpointInterval: 2 });
    const dir = summary.run_dir;
    await assert.rejects(loadRunModel(dir, 'step-00000003'), /step-00000003: no such checkpoint; this run has step-00000002, step-00000004/);
    await assert.rejects(loadRunModel(dir, 'newest' as never), /checkpoint 'newest': give best, last or a checkpoint folder name/);

    // damaged weights: the named checkpoint is refused; 'last' passes over it to the one before, and says so
    const weights = path.join(dir, 'checkpoints', 'step-00000004', 'model.safetensors');
    const bytes = fs.readFileSync(weights);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(weights, bytes);
    await assert.rejects(loadRunModel(dir, 'step-00000004'), /model\.safetensors: does not match the SHA-256 in the manifest/);
    const fallback = await loadRunModel(dir);
    assert.equal(fallback.checkpoint.name, 'step-00000002');
    assert.match(fallback.notes.join('\n'), /checkpoint step-00000004 skipped: .*SHA-256/);
    fallback.model.dispose();

    // a config from a newer workbench, and a newer run format
    const runJson = path.join(dir, RUN_JSON);
    const original = fs.readFileSync(runJson, 'utf8');
    const doc = JSON.parse(original);
    fs.writeFileSync(runJson, JSON.stringify({ ...doc, config: { ...doc.config, task: 'diffusion' } }));
    await assert.rejects(loadRunModel(dir), /the run's task is "diffusion", which this Transformer Workbench does not know/);
    fs.writeFileSync(runJson, JSON.stringify({ ...doc, version: 99 }));
    await assert.rejects(loadRunModel(dir), /written by a newer Transformer Workbench \(run format 99/);
    fs.writeFileSync(runJson, original);

    // a run with no checkpoint yet
    fs.rmSync(path.join(dir, 'checkpoints'), { recursive: true });
    await assert.rejects(loadRunModel(dir), /has no checkpoint yet \(the run is at step 4 and completed/);
    await assert.rejects(loadRunModel(dir, 'best'), /has no best checkpoint/);
    await assert.rejects(loadRunModel(path.join(tmp, 'nowhere')), /run\.json: missing; this folder is not a run/);
  });
});
