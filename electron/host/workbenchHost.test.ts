/**
 * The host with the real engine process and real files: a tiny character GPT saved as an experiment is
 * started through runs.start and streams onRunEvents to onJobEnded while a dataset preview runs beside it;
 * runs.list and runs.metrics read what the engine wrote. Then the engine is killed mid-run (SIGKILL):
 * the host reports it crashed and marks the run interrupted, every checkpoint on disk is intact,
 * engine.restart brings a new engine, and runs.resume finishes the run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineError } from '../../common/errors';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../../common/experiment';
import { CheckpointManifest, RunJson } from '../../common/runFolder';
import type { RunEvent } from '../../common/runEvents';
import type { EngineStatus, PayloadOf } from '../../common/workbenchApi';
import { nodeForkEngine } from './engineSupervisor';
import { createWorkbenchHost, type WorkbenchHost } from './workbenchHost';

const SHAKESPEARE = path.resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt');
let tmp: string;
let host: WorkbenchHost;
let experimentPath: string;
const statuses: EngineStatus[] = [];
const runEvents = new Map<string, RunEvent[]>();
const ended = new Map<string, PayloadOf<'onJobEnded'>>();

const experiment = {
  format: EXPERIMENT_FORMAT,
  version: EXPERIMENT_VERSION,
  name: 'tiny char GPT',
  cells: [
    {
      id: 'data', kind: 'dataset',
      dataset: { source: { kind: 'file', path: 'small.txt', unit: 'file' }, split: 'tail', cleaning: { normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } },
      tokenizer: { kind: 'char' },
    },
    { id: 'model', kind: 'model', model: { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2 } },
    { id: 'short', kind: 'pretrain', pretrain: { steps: 40, batchSize: 8, evalInterval: 20, evalBatches: 2, checkpointInterval: 20, schedule: { warmupSteps: 5 } } },
    { id: 'long', kind: 'pretrain', pretrain: { steps: 150, batchSize: 8, evalInterval: 50, evalBatches: 2, checkpointInterval: 10, keepCheckpoints: 3, schedule: { warmupSteps: 5 } } },
  ],
};

/** resolves with the first value `pick` returns for an event of the host, checked as it arrives */
function waitFor<T>(what: string, pick: () => T | undefined, ms = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const v = pick();
      if (v !== undefined) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

const stepsOf = (runId: string) => (runEvents.get(runId) ?? []).flatMap((e) => (e.type === 'step' ? [e.step] : []));
const reportedDirOf = (runId: string) => (runEvents.get(runId) ?? []).flatMap((e) => (e.type === 'status' ? [e.runDir] : []))[0];

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'host-engine-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 40_000));
  experimentPath = path.join(tmp, 'tiny.experiment.json');
  fs.writeFileSync(experimentPath, JSON.stringify(experiment, null, 2));
  host = createWorkbenchHost({
    configDir: path.join(tmp, 'config'),
    engine: { fork: nodeForkEngine({ env: { XDG_CACHE_HOME: path.join(tmp, 'cache') } }), restartBackoffMs: 200 },
  });
  host.on('onEngineStatus', (s) => statuses.push(s));
  host.on('onRunEvents', (e) => {
    assert.equal(e.experimentPath, experimentPath, 'events name the run by its experiment and its id');
    runEvents.set(e.runId, [...(runEvents.get(e.runId) ?? []), ...e.events]);
  });
  host.on('onJobEnded', (e) => ended.set(e.runId, e));
  await waitFor('the engine', () => (host.engine.getStatus().state === 'ready' ? true : undefined));
});
after(async () => {
  await host.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('workbench host with the engine process', () => {
  it('runs a pretrain cell of the saved experiment, with a dataset preview beside it, then lists the run and its curve', async () => {
    const { runId } = await host.call('runs.start', { experimentPath, cellId: 'short' });
    // dataset.preview takes no device: it runs while the model trains
    const preview = await host.call('dataset.preview', {
      dataset: { source: { kind: 'corpus', corpus: 'brown', genres: ['humor'] } }, tokenizer: { kind: 'wordpiece', vocabSize: 2000 }, experimentPath: null, samples: 3,
    });
    assert.equal(preview.samples.length, 3);
    for (const s of preview.samples) {
      assert.equal(s.label, 'humor');
      assert.ok(s.raw.length > 100 && s.cleaned.length > 100, s.id);
      assert.ok(s.tokens.length > 0 && s.tokens.length <= 64);
      assert.ok(!s.raw.includes('/at '), 'POS tags are stripped');
    }
    assert.equal(preview.stats.documentsRead, 9, 'the 9 humor texts of the Brown corpus');
    assert.ok(preview.vocabSize > 100 && preview.vocabSize <= 2000, String(preview.vocabSize));
    assert.ok(preview.stats.train.tokens! > 10_000, JSON.stringify(preview.stats.train));
    assert.equal(preview.lengthHistogram.counts.reduce((a, b) => a + b, 0), preview.stats.train.documents + preview.stats.validation.documents);
    assert.ok(preview.cleaning.steps.length > 0);

    const end = await waitFor('the run to end', () => ended.get(runId));
    assert.equal(end.outcome, 'done', JSON.stringify(end));
    assert.equal(end.summary?.status, 'completed');
    assert.equal(end.summary?.steps, 40);
    assert.deepEqual(stepsOf(runId), Array.from({ length: 40 }, (_, i) => i + 1), 'every step arrived, in order');
    assert.ok(statuses.some((s) => s.state === 'busy'), 'the engine was busy while it trained');
    assert.equal(host.engine.getStatus().state, 'ready');

    const runs = await host.call('runs.list', { experimentPath });
    assert.equal(runs.length, 1);
    const run = runs[0];
    assert.ok(run.ok, JSON.stringify(run));
    assert.equal(run.run.status, 'completed');
    // the id the host picked is the run's folder name, and the engine reported that folder
    assert.equal(run.id, runId);
    const runDir = path.join(tmp, 'tiny.runs', runId);
    assert.equal(reportedDirOf(runId), runDir);
    assert.equal(end.summary?.run_id, runId);

    const curve = await host.call('runs.metrics', { experimentPath, runId });
    const trainSteps = curve.filter((p) => p.scalars['train/loss'] !== undefined).map((p) => p.step);
    assert.deepEqual(trainSteps, Array.from({ length: 40 }, (_, i) => i + 1));
    assert.ok(curve.some((p) => p.scalars['val/loss'] !== undefined));
    const tail = await host.call('runs.metrics', { experimentPath, runId, sinceStep: 30 });
    assert.ok(tail.length > 0 && tail.every((p) => p.step >= 30));

    // a torn last line (a write cut short) is ignored; a broken run.json is an entry with a problem
    fs.appendFileSync(path.join(runDir, 'metrics.jsonl'), '{"step": 41, "wallTi');
    assert.equal((await host.call('runs.metrics', { experimentPath, runId })).length, curve.length);
    fs.mkdirSync(path.join(tmp, 'tiny.runs', 'zz-broken'));
    fs.writeFileSync(path.join(tmp, 'tiny.runs', 'zz-broken', 'run.json'), '{ not json');
    const listed = await host.call('runs.list', { experimentPath });
    assert.equal(listed.length, 2);
    assert.ok(!listed[1].ok && /run\.json: is not valid JSON/.test(listed[1].problem));
    fs.rmSync(path.join(tmp, 'tiny.runs', 'zz-broken'), { recursive: true });
  });

  it('survives the engine being killed mid-run: crashed, run interrupted with intact checkpoints, restart, resume to the end', async () => {
    const { runId } = await host.call('runs.start', { experimentPath, cellId: 'long' });
    await waitFor('step 25', () => (stepsOf(runId).some((s) => s >= 25) ? true : undefined));
    const pid = host.engine.getStatus().pid!;
    const crashedBefore = statuses.filter((s) => s.state === 'crashed').length;
    process.kill(pid, 'SIGKILL');
    // a call racing the death is answered (or refused), never a crash of the host
    const racing = await host.call('runs.control', { experimentPath, runId, action: 'pause' }).then(() => 'answered', (e: unknown) => (e instanceof EngineError ? 'refused' : 'other'));
    assert.notEqual(racing, 'other');

    const crashed = await waitFor('crashed', () => statuses.slice(crashedBefore).find((s) => s.state === 'crashed'));
    assert.match(crashed.lastExit ?? '', /SIGKILL/);
    assert.equal(crashed.pid, null);
    const end = await waitFor('the job end', () => ended.get(runId));
    assert.equal(end.outcome, 'failed');
    assert.match(end.error?.message ?? '', /killed.*resume it/s);

    const runDir = path.join(tmp, 'tiny.runs', runId);
    assert.equal(reportedDirOf(runId), runDir);
    const runJson = RunJson.parse(JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')));
    assert.equal(runJson.status, 'interrupted');
    assert.ok((runEvents.get(runId) ?? []).some((e) => e.type === 'status' && e.status === 'interrupted'));
    const checkpoints = fs.readdirSync(path.join(runDir, 'checkpoints')).filter((n) => n.startsWith('step-'));
    assert.ok(checkpoints.length >= 2, checkpoints.join(', '));
    const newest = Math.max(...checkpoints.map((n) => Number(n.slice('step-'.length))));
    for (const name of checkpoints) {
      const dir = path.join(runDir, 'checkpoints', name);
      const manifest = CheckpointManifest.parse(JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')));
      for (const f of [manifest.files.model, manifest.files.optimizer!]) {
        const bytes = fs.readFileSync(path.join(dir, f.file));
        assert.equal(bytes.length, f.bytes, `${name}/${f.file}`);
        assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), f.sha256, `${name}/${f.file}`);
      }
    }
    const listed = await host.call('runs.list', { experimentPath });
    assert.equal((listed.find((r) => r.id === runId && r.ok) as { run: RunJson } | undefined)?.run.status, 'interrupted');

    const restarted = await host.call('engine.restart', {});
    assert.equal(restarted.state, 'ready');
    assert.notEqual(restarted.pid, pid);
    assert.ok(restarted.restarts >= 1);
    assert.equal((await host.call('engine.status', {})).state, 'ready');

    // the resumed run keeps its handle: its events and its end come under the same run id
    ended.delete(runId);
    runEvents.delete(runId);
    const resumed = await host.call('runs.resume', { experimentPath, runId });
    assert.equal(resumed.runId, runId);
    await assert.rejects(host.call('runs.resume', { experimentPath, runId }), (e: EngineError) => e.code === 'BUSY' && /training now/.test(e.message));
    const done = await waitFor('the resumed run', () => ended.get(runId));
    assert.equal(done.outcome, 'done', JSON.stringify(done));
    assert.equal(done.summary?.status, 'completed');
    assert.equal(done.summary?.steps, 150);
    const resumedSteps = stepsOf(runId);
    assert.equal(resumedSteps[0], newest + 1, 'resumed from the newest checkpoint');
    const curve = await host.call('runs.metrics', { experimentPath, runId });
    const trainSteps = curve.filter((p) => p.scalars['train/loss'] !== undefined).map((p) => p.step);
    assert.deepEqual(trainSteps, Array.from({ length: 150 }, (_, i) => i + 1), 'the curve continues without gaps or duplicates');
    const finished = await host.call('runs.list', { experimentPath });
    assert.equal((finished.find((r) => r.id === runId) as { run: RunJson }).run.status, 'completed');
  });

  it('refuses bad calls with the method and field named, and a cell that is not a pretrain cell', async () => {
    await assert.rejects(host.call('runs.start', { experimentPath, cellId: 'model' }), (e: EngineError) => e.code === 'INVALID_CONFIG' && /'model' is a model cell/.test(e.message));
    await assert.rejects(host.call('runs.start', { experimentPath }), (e: EngineError) => e.code === 'BAD_MESSAGE' && /runs\.start: cellId/.test(e.message));
    await assert.rejects(host.callRaw('runs.explode', {}), (e: EngineError) => e.code === 'UNKNOWN_COMMAND');
    await assert.rejects(host.call('runs.control', { experimentPath, runId: 'no-such-run', action: 'stop' }), (e: EngineError) => e.code === 'JOB_NOT_FOUND' && /'no-such-run'/.test(e.message));
    // a run id is a folder name under NAME.runs/: one that would climb out of it is refused before any file is touched
    await assert.rejects(host.call('runs.metrics', { experimentPath, runId: '../tiny' }), (e: EngineError) => e.code === 'BAD_MESSAGE' && /runs\.metrics: runId/.test(e.message));
  });

  it('imports a Hugging Face checkpoint folder as a run of the experiment, listed like the others; a bad folder is refused by name', async () => {
    // a GPT2Model folder from a trained run: its weights already carry GPT-2's names and layouts
    const [trained] = (await host.call('runs.list', { experimentPath })).filter((r): r is Extract<typeof r, { ok: true }> => r.ok && r.run.status === 'completed');
    const runDir = path.join(tmp, 'tiny.runs', trained.id);
    const hf = path.join(tmp, 'hf-gpt2');
    fs.mkdirSync(hf);
    const model = experiment.cells[1].model!;
    const vocab = Object.keys(JSON.parse(fs.readFileSync(path.join(runDir, 'tokenizer.json'), 'utf8')).model.vocab).length;
    fs.writeFileSync(path.join(hf, 'config.json'), JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2Model'], vocab_size: vocab, n_positions: model.contextLength, n_embd: model.dModel, n_head: model.nHeads, n_layer: model.nLayers }));
    fs.copyFileSync(path.join(runDir, 'checkpoints', trained.run.lastCheckpoint!, 'model.safetensors'), path.join(hf, 'model.safetensors'));
    fs.copyFileSync(path.join(runDir, 'tokenizer.json'), path.join(hf, 'tokenizer.json'));

    const imported = await host.call('runs.import', { experimentPath, sourceDir: hf });
    assert.equal(imported.architecture, 'GPT2Model');
    assert.ok(imported.parameters > 20_000, String(imported.parameters));
    const listed = (await host.call('runs.list', { experimentPath })).find((r) => r.id === imported.runId);
    assert.ok(listed?.ok, JSON.stringify(listed));
    assert.equal((listed as { run: RunJson }).run.status, 'completed');
    assert.equal(((listed as { run: RunJson }).run.config as { task: string }).task, 'import');

    fs.rmSync(path.join(hf, 'tokenizer.json'));
    await assert.rejects(host.call('runs.import', { experimentPath, sourceDir: hf }), (e: EngineError) => e.code === 'INVALID_CONFIG' && /has no tokenizer\.json/.test(e.message));
  });

  it('exports a run as a verified bundle beside the experiment, refuses to overwrite it unasked, and imports it back as a run', async () => {
    const [trained] = (await host.call('runs.list', { experimentPath })).filter((r): r is Extract<typeof r, { ok: true }> => r.ok && r.run.status === 'completed' && (r.run.config as { task?: string }).task !== 'import');
    const bundle = await host.call('runs.export', { experimentPath, runId: trained.id });
    assert.equal(bundle.outDir, path.join(tmp, 'bundles', trained.id));
    assert.equal(bundle.architecture, 'GPT2LMHeadModel');
    assert.ok(bundle.checks.length >= 3 && bundle.checks.every((c) => c.ok), JSON.stringify(bundle.checks));
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json', 'README.md', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) {
      assert.ok(fs.existsSync(path.join(bundle.outDir, f)), f);
    }
    await assert.rejects(host.call('runs.export', { experimentPath, runId: trained.id }), (e: EngineError) => /is not empty/.test(e.message));
    const back = await host.call('runs.import', { experimentPath, sourceDir: bundle.outDir });
    assert.equal(back.architecture, 'GPT2LMHeadModel');
  });

  it('exports a pretrain cell as a PyTorch project beside the experiment (runs.exportTorch), refusing to overwrite it unasked', async () => {
    const r = await host.call('runs.exportTorch', { experimentPath, cellId: 'short' });
    assert.equal(r.outDir, path.join(tmp, 'torch', 'short'));
    assert.deepEqual([r.arch, r.objective], ['gpt', 'causal-lm']);
    for (const f of ['model.py', 'train.py', 'launch.sh', 'README.md', 'workbench-torch.json', 'init.safetensors', 'tokenizer.json']) assert.ok(fs.existsSync(path.join(r.outDir, f)), f);
    await assert.rejects(host.call('runs.exportTorch', { experimentPath, cellId: 'short' }), (e: EngineError) => /is not empty/.test(e.message));
    await assert.rejects(host.call('runs.exportTorch', { experimentPath, cellId: 'model' }), (e: EngineError) => /'model' is a model cell/.test(e.message));
  });
});
