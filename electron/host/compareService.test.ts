/**
 * The comparison methods with the real engine process: a tiny character GPT trained through runs.start, a
 * variant beside it (an exact copy, common/node/copyVariant.testing.ts), then compare.start followed by its
 * events (a progress event per row), compare.read giving the table the engine wrote, compare.export writing
 * CSV and JSON beside the experiment, and bad requests refused in words.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EngineError } from '../../common/errors';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION, runDirOf } from '../../common/experiment';
import { writeCopyVariant } from '../../common/node/copyVariant.testing';
import type { PayloadOf } from '../../common/workbenchApi';
import { nodeForkEngine } from './engineSupervisor';
import { createWorkbenchHost, type WorkbenchHost } from './workbenchHost';

const SHAKESPEARE = path.resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt');
let tmp: string;
let host: WorkbenchHost;
let experimentPath: string;
let runId: string;

const experiment = {
  format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'tiny compare',
  cells: [
    { id: 'data', kind: 'dataset', dataset: { source: { kind: 'file', path: 'small.txt', unit: 'file' }, split: 'tail', cleaning: { normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } }, tokenizer: { kind: 'char' } },
    { id: 'model', kind: 'model', model: { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2 } },
    { id: 'pre', kind: 'pretrain', pretrain: { steps: 20, batchSize: 8, evalInterval: 10, evalBatches: 1, schedule: { warmupSteps: 5 } } },
    { id: 'squeeze', kind: 'compress', method: 'int8' },
  ],
};

function nextEvent<E extends 'onCompareEnded' | 'onJobEnded' | 'onEngineStatus'>(event: E, pick: (p: PayloadOf<E>) => boolean, what: string, ms = 120_000): Promise<PayloadOf<E>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
    const off = host.on(event, (p) => { if (pick(p)) { clearTimeout(timer); off(); resolve(p); } });
  });
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'host-compare-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 40_000));
  experimentPath = path.join(tmp, 'tiny.experiment.json');
  fs.writeFileSync(experimentPath, JSON.stringify(experiment));
  host = createWorkbenchHost({ configDir: path.join(tmp, 'config'), engine: { fork: nodeForkEngine({ env: { XDG_CACHE_HOME: path.join(tmp, 'cache') } }) } });
  const ready = nextEvent('onEngineStatus', (s) => s.state === 'ready', 'the engine');
  if (host.engine.getStatus().state !== 'ready') await ready;
  const done = nextEvent('onJobEnded', () => true, 'the run to end');
  runId = (await host.call('runs.start', { experimentPath, cellId: 'pre' })).runId;
  assert.equal((await done).outcome, 'done');
  await writeCopyVariant(runDirOf(experimentPath, runId), 'copy-variant');
});
after(async () => {
  await host.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('comparison methods with the engine process', () => {
  it('has no comparison before one is measured', async () => {
    assert.equal(await host.call('compare.read', { experimentPath, runId }), null);
  });

  it('measures the base and its variant, a progress event per row, and reads the table back', async () => {
    const progress: PayloadOf<'onCompareProgress'>[] = [];
    const off = host.on('onCompareProgress', (p) => progress.push(p));
    const ended = nextEvent('onCompareEnded', (p) => p.runId === runId, 'the comparison to end');
    const { jobId } = await host.call('compare.start', { experimentPath, runId, evalBatches: 1, batchSize: 4 });
    const end = await ended;
    off();
    assert.equal(end.outcome, 'done', JSON.stringify(end.error));
    assert.equal(end.jobId, jobId);
    const rows = progress.filter((p) => p.message?.startsWith('row '));
    assert.deepEqual(rows.map((p) => [p.message, p.done, p.total]), [[`row ${runId}`, 1, 2], ['row copy-variant', 2, 2]]);
    const c = await host.call('compare.read', { experimentPath, runId });
    assert.ok(c && c.complete);
    assert.deepEqual(c.rows.map((r) => r.runId), [runId, 'copy-variant']);
    assert.equal(c.rows[1].top1Agreement, 1);
    assert.equal(c.rows[1].valLoss, c.rows[0].valLoss);
  });

  it('exports the table as CSV and JSON beside the experiment', async () => {
    const csv = await host.call('compare.export', { experimentPath, runId, format: 'csv' });
    assert.equal(csv.path, path.join(tmp, 'comparisons', `${runId}.comparison.csv`));
    const lines = fs.readFileSync(csv.path, 'utf8').trim().split('\r\n');
    assert.equal(lines.length, 3);
    assert.ok(lines[2].startsWith('copy-variant,'));
    const json = await host.call('compare.export', { experimentPath, runId, format: 'json' });
    assert.equal(JSON.parse(fs.readFileSync(json.path, 'utf8')).rows.length, 2);
  });

  it('refuses a base that is not a run of the experiment, and a cancel of no comparison, in words', async () => {
    await assert.rejects(host.call('compare.start', { experimentPath, runId: 'no-such-run' }), (e: EngineError) => /'no-such-run' is not a run of this experiment/.test(e.message) && e.path?.[0] === 'runId');
    await assert.rejects(host.call('compare.cancel', { jobId: 'compare-nothing' }), /is not running/);
  });
});
