/**
 * One experiment file trains one thing, whoever runs it: a file with two dataset, two model and two pretrain
 * cells is trained once by the command line (`workbench train --cell`, a real process) and once by the host
 * (runs.start, with the real engine process). Both must take the nearest dataset and model cells above the
 * pretrain cell (common/experiment.ts pretrainInputs) and, on the same backend with the same seed, write the
 * same run: the same configs in run.json, the same loss at every step and the same final weights, byte for byte.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXPERIMENT_FORMAT } from '../../common/experiment';
import { readMetricsPoints, readRunJson } from '../../common/node/runFiles';
import type { PayloadOf } from '../../common/workbenchApi';
import { nodeForkEngine } from './engineSupervisor';
import { createWorkbenchHost, type WorkbenchHost } from './workbenchHost';

const root = path.resolve(import.meta.dirname, '../..');
const SHAKESPEARE = path.resolve(root, '../shared/data/tinyshakespeare.txt');
const plainText = { split: 'tail', cleaning: { normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } };
const pretrain = { steps: 6, batchSize: 4, evalInterval: 3, evalBatches: 1, checkpointInterval: 100, schedule: { warmupSteps: 2 }, backend: 'wasm' };

const experiment = {
  format: EXPERIMENT_FORMAT,
  version: 1,
  name: 'two recipes',
  cells: [
    { id: 'data-a', kind: 'dataset', dataset: { source: { kind: 'file', path: 'a.txt', unit: 'file' }, ...plainText }, tokenizer: { kind: 'char' } },
    { id: 'model-a', kind: 'model', model: { arch: 'gpt', contextLength: 16, dModel: 16, nHeads: 2, nLayers: 1 } },
    { id: 'train-a', kind: 'pretrain', pretrain: { ...pretrain, seed: 1 } },
    { id: 'data-b', kind: 'dataset', dataset: { source: { kind: 'file', path: 'b.txt', unit: 'file' }, ...plainText }, tokenizer: { kind: 'char' } },
    { id: 'model-b', kind: 'model', model: { arch: 'gpt', contextLength: 24, dModel: 32, nHeads: 4, nLayers: 2 } },
    { id: 'notes', kind: 'notes', markdown: 'the second recipe trains from the cells just above it' },
    { id: 'train-b', kind: 'pretrain', pretrain: { ...pretrain, seed: 2 } },
  ],
};

let tmp: string;
let file: string;
let host: WorkbenchHost;

function sha256(f: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-host-'));
  const text = fs.readFileSync(SHAKESPEARE, 'utf8');
  fs.writeFileSync(path.join(tmp, 'a.txt'), text.slice(0, 20_000));
  fs.writeFileSync(path.join(tmp, 'b.txt'), text.slice(500_000, 530_000));
  file = path.join(tmp, 'two.experiment.json');
  fs.writeFileSync(file, JSON.stringify(experiment, null, 2));
});
after(async () => {
  await host?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the command line and the host', () => {
  it('train the same model on the same data from the same pretrain cell', async () => {
    const env = { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache') };
    const cli = spawnSync(process.execPath, [path.join(root, 'bin/workbench.js'), 'train', file, '--cell', 'train-b', '--out', path.join(tmp, 'cli-runs'), '--json'], { encoding: 'utf8', env });
    assert.equal(cli.status, 0, cli.stderr);
    const cliSummary = JSON.parse(cli.stdout.trim().split('\n').pop()!) as { run_dir: string; status: string };
    assert.equal(cliSummary.status, 'completed');

    host = createWorkbenchHost({ configDir: path.join(tmp, 'config'), engine: { fork: nodeForkEngine({ env: { XDG_CACHE_HOME: path.join(tmp, 'cache') } }) } });
    const ended = new Promise<PayloadOf<'onJobEnded'>>((resolve) => host.on('onJobEnded', resolve));
    await host.call('runs.start', { experimentPath: file, cellId: 'train-b' });
    const end = await ended;
    assert.equal(end.outcome, 'done', JSON.stringify(end.error));
    const hostRunDir = end.summary!.run_dir;

    const [a, b] = await Promise.all([readRunJson(cliSummary.run_dir), readRunJson(hostRunDir)]);
    const spec = (run: typeof a) => (run.config as { spec: Record<string, unknown> }).spec;
    assert.deepEqual(spec(a), spec(b), 'the same cells, as run.json records them');
    assert.equal((spec(a).dataset as { source: { path: string } }).source.path, 'b.txt', 'the dataset cell nearest above train-b');
    assert.equal((spec(a).model as { dModel: number }).dModel, 32, 'the model cell nearest above train-b');

    const losses = async (dir: string) => (await readMetricsPoints(dir)).filter((p) => p.scalars['train/loss'] !== undefined).map((p) => p.scalars['train/loss']);
    const [la, lb] = await Promise.all([losses(cliSummary.run_dir), losses(hostRunDir)]);
    assert.equal(la.length, 6);
    assert.deepEqual(la, lb, 'the same loss at every step');
    const weights = (dir: string, run: typeof a) => path.join(dir, 'checkpoints', run.lastCheckpoint!, 'model.safetensors');
    assert.equal(sha256(weights(cliSummary.run_dir, a)), sha256(weights(hostRunDir, await readRunJson(hostRunDir))), 'the same final weights');
  });
});
