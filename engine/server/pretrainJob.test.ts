/**
 * Pretraining through the engine process, as the notebook will drive it: run events arrive in batches,
 * job.control pauses and resumes, job.cancel stops with a checkpoint, pretrain.resume finishes the run,
 * and a bad cell is a failed job naming the field while the engine keeps serving.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EventOf, JobEvent } from '../../common/protocol';
import type { RunEvent } from '../../common/runEvents';
import { startEngine, type EngineProcess } from './testClient';

const SHAKESPEARE = path.resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt');
let tmp: string;
let engine: EngineProcess;

const cells = (steps: number) => ({
  name: 'tiny',
  dataset: { source: { kind: 'file', path: 'small.txt', unit: 'file' }, split: 'tail', cleaning: { normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } },
  tokenizer: { kind: 'char' },
  model: { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2 },
  pretrain: { steps, batchSize: 8, evalInterval: 50, evalBatches: 2, checkpointInterval: 25, schedule: { warmupSteps: 5 } },
});

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-job-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 40_000));
  engine = await startEngine({ env: { XDG_CACHE_HOME: path.join(tmp, 'cache') } });
  await engine.client.hello();
});
after(async () => {
  await engine.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('pretraining jobs in the engine process', () => {
  it('stream batched run events, pause and resume, stop with a checkpoint, then resume to the end', async () => {
    const batches: RunEvent[][] = [];
    let runDir = '';
    let paused = false;
    // the host names the run, and its job, with one id: the run folder takes that name
    const job = engine.client.startJob('run-1', { kind: 'pretrain.start', ...cells(200), runsDir: path.join(tmp, 'runs'), runId: 'run-1', baseDir: tmp }, (e: JobEvent) => {
      if (e.type !== 'onRunEvents') return;
      batches.push(e.events);
      for (const ev of e.events) {
        if (ev.type === 'status' && ev.runDir) runDir = ev.runDir;
        if (ev.type === 'step' && ev.step >= 30 && !paused) { paused = true; void engine.client.controlJob('run-1', 'pause'); }
        if (ev.type === 'status' && ev.status === 'paused') {
          const run = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
          assert.equal(run.status, 'paused');
          void engine.client.controlJob('run-1', 'resume');
        }
        if (ev.type === 'step' && ev.step === 60) void engine.client.cancelJob('run-1');
      }
    });
    await job.accepted;
    const end = await job.ended;
    assert.equal(end.type, 'onJobCancelled', JSON.stringify(end));
    assert.equal(runDir, path.join(tmp, 'runs', 'run-1'));
    const events = batches.flat();
    const steps = events.filter((e): e is Extract<RunEvent, { type: 'step' }> => e.type === 'step').map((e) => e.step);
    assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), 'every step, in order');
    assert.ok(steps.length >= 60 && steps.length < 200, `stopped after step ${steps.length}, before the end`);
    assert.ok(batches.length < steps.length, `${steps.length} steps came in ${batches.length} messages`);
    assert.ok(events.some((e) => e.type === 'status' && e.status === 'paused'));
    assert.ok(events.some((e) => e.type === 'eval' && e.step === 50));
    const stopped = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
    assert.equal(stopped.status, 'cancelled');
    assert.equal(stopped.step, steps[steps.length - 1], 'the run folder stopped where the events did');
    assert.equal(stopped.lastCheckpoint, `step-${String(stopped.step).padStart(8, '0')}`);

    // the same run, continued to a shorter end: resume honours the run's own step count, so finish it here
    const resumed = engine.client.startJob('run-1b', { kind: 'pretrain.resume', runDir });
    await resumed.accepted;
    const done = await resumed.ended as EventOf<'onJobDone'>;
    assert.equal(done.type, 'onJobDone', JSON.stringify(done));
    assert.equal(done.kind, 'pretrain.resume');
    const summary = done.result as { status: string; steps: number; final_val_loss: number };
    assert.equal(summary.status, 'completed');
    assert.equal(summary.steps, 200);
    assert.ok(summary.final_val_loss < Math.log(65));
  });

  it('fails a job with an impossible model cell, naming the field, and keeps serving', async () => {
    const bad = cells(5);
    const job = engine.client.startJob('bad-1', { kind: 'pretrain.start', ...bad, model: { ...bad.model, nHeads: 3 }, runsDir: path.join(tmp, 'runs'), baseDir: tmp });
    await job.accepted;
    const end = await job.ended;
    assert.equal(end.type, 'onJobFailed');
    assert.match((end as EventOf<'onJobFailed'>).error.message, /model\.nHeads: dModel 32 is not divisible by nHeads 3/);
    const status = await engine.client.request({ type: 'status' });
    assert.deepEqual(status.jobs, []);
    await assert.rejects(engine.client.controlJob('nope', 'pause'), /no job 'nope'/);
    // a run id whose folder exists is refused, not trained into
    const again = engine.client.startJob('again-1', { kind: 'pretrain.start', ...cells(5), runsDir: path.join(tmp, 'runs'), runId: 'run-1', baseDir: tmp });
    await again.accepted;
    const refused = await again.ended;
    assert.equal(refused.type, 'onJobFailed');
    assert.match((refused as EventOf<'onJobFailed'>).error.message, /run-1: already exists/);
  });
});
