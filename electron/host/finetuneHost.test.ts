/**
 * The fine-tune cell's path through the host with the real engine: a tiny character GPT pretrained through
 * runs.start, fine-tuned through runs.derive on a JSON Lines task (events as any run's, ending with a
 * summary), and its evaluation read back through runs.classificationReport — null for a run that has none,
 * an error naming the file for one that is broken.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../../common/errors';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../../common/experiment';
import type { RunEvent } from '../../common/runEvents';
import type { PayloadOf } from '../../common/workbenchApi';
import { nodeForkEngine } from './engineSupervisor';
import { createWorkbenchHost, type WorkbenchHost } from './workbenchHost';

const SHAKESPEARE = path.resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt');
let tmp: string;
let host: WorkbenchHost;
let experimentPath: string;
const runEvents = new Map<string, RunEvent[]>();
const ended = new Map<string, PayloadOf<'onJobEnded'>>();

const experiment = {
  format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'tiny',
  cells: [
    { id: 'data', kind: 'dataset', dataset: { source: { kind: 'file', path: 'small.txt', unit: 'file' }, split: 'tail' }, tokenizer: { kind: 'char' } },
    { id: 'model', kind: 'model', model: { arch: 'gpt', contextLength: 32, dModel: 16, nHeads: 2, nLayers: 1 } },
    { id: 'pretrain', kind: 'pretrain', pretrain: { steps: 6, batchSize: 4, evalInterval: 6, evalBatches: 1, schedule: { warmupSteps: 1 } } },
  ],
};

/** the first value `pick` gives, polled every 20 ms */
async function waitFor<T>(what: string, pick: () => T | undefined, ms = 120_000): Promise<T> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(20)) {
    const v = pick();
    if (v !== undefined) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'host-finetune-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 20_000));
  fs.writeFileSync(path.join(tmp, 'task.jsonl'), Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: i % 2 ? 'the king' : 'my love', label: i % 2 ? 'king' : 'love' })).join('\n'));
  experimentPath = path.join(tmp, 'tiny.experiment.json');
  fs.writeFileSync(experimentPath, JSON.stringify(experiment));
  host = createWorkbenchHost({ configDir: path.join(tmp, 'config'), engine: { fork: nodeForkEngine({ env: { XDG_CACHE_HOME: path.join(tmp, 'cache') } }) } });
  host.on('onRunEvents', (e) => runEvents.set(e.runId, [...(runEvents.get(e.runId) ?? []), ...e.events]));
  host.on('onJobEnded', (e) => ended.set(e.runId, e));
  await waitFor('the engine', () => (host.engine.getStatus().state === 'ready' ? true : undefined));
});
after(async () => {
  await host.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('fine-tuning through the host', () => {
  it('derives a classifier from a pretrained run and serves its evaluation report', async () => {
    const { runId: baseRunId } = await host.call('runs.start', { experimentPath, cellId: 'pretrain' });
    assert.equal((await waitFor('the base run', () => ended.get(baseRunId))).outcome, 'done');
    assert.equal(await host.call('runs.classificationReport', { experimentPath, runId: baseRunId }), null, 'a pretraining run has no report');

    const settings = { data: { kind: 'jsonl', file: path.join(tmp, 'task.jsonl') }, method: 'full', loop: { steps: 4, batchSize: 4, evalInterval: 2, evalBatches: 1, schedule: { warmupSteps: 1 } } };
    const { runId } = await host.call('runs.derive', { experimentPath, baseRunId, task: 'finetune', settings });
    const end = await waitFor('the fine-tuning run', () => ended.get(runId));
    assert.equal(end.outcome, 'done', JSON.stringify(end.error));
    const evals = (runEvents.get(runId) ?? []).flatMap((e) => (e.type === 'eval' ? [e] : []));
    assert.deepEqual(evals.map((e) => e.step), [2, 4]);
    assert.ok(evals.every((e) => typeof e.val.accuracy === 'number' && typeof e.val.macroF1 === 'number'));
    const report = await host.call('runs.classificationReport', { experimentPath, runId });
    assert.ok(report);
    assert.equal(report.step, 4);
    assert.deepEqual(report.labels, ['king', 'love']);
    assert.equal(report.accuracy, evals[1].val.accuracy, 'the report is the last evaluation\'s');

    fs.writeFileSync(path.join(tmp, 'tiny.runs', runId, 'eval', 'classification.json'), '{"step": 4');
    await assert.rejects(host.call('runs.classificationReport', { experimentPath, runId }), (e: EngineError) => /classification\.json: is not JSON/.test(e.message));
    await assert.rejects(host.call('runs.classificationReport', { experimentPath, runId: '../tiny' }), (e: EngineError) => e.code === 'BAD_MESSAGE');
  });
});
