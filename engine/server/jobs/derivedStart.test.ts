/**
 * `derived.start` for an int8 variant: written in one pass with the run's events (progress included), its
 * result a run summary; a cancel before it starts leaves a cancelled run, not a half-written variant.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunEvent } from '../../../common/runEvents';
import { selectBackend } from '../../backends/select';
import { TINY_GPT, tinyRun } from '../../inspect/tinyRuns.testing';
import type { JobContext } from '../job';
import { derivedStart } from './derivedStart';

let tmp: string;
let gpt: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'derived-job-'));
  gpt = await tinyRun(path.join(tmp, 'gpt'), TINY_GPT);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function context(events: RunEvent[], signal: AbortSignal): Promise<JobContext> {
  const backend = await selectBackend('cpu');
  return {
    jobId: 'derived-test', signal, backend,
    progress: () => undefined, log: () => undefined, runEvents: (e) => events.push(...e), onControl: () => undefined,
    checkpoint: async () => undefined,
  };
}

const spec = (runId: string) => ({ kind: 'derived.start' as const, name: 'int8', task: 'compress' as const, baseRunDir: gpt, baseCheckpoint: 'last', settings: { method: 'int8', measure: { batchSize: 4, evalBatches: 1 } }, runsDir: path.join(tmp, 'variants'), runId });

describe('derived.start job, int8', () => {
  it('writes the variant in one pass with progress events, and returns its run summary', async () => {
    const events: RunEvent[] = [];
    const summary = await derivedStart.run(spec('int8-a'), await context(events, new AbortController().signal));
    assert.equal(summary.status, 'completed');
    assert.equal(summary.run_dir, path.join(tmp, 'variants', 'int8-a'));
    assert.ok(Number.isFinite(summary.final_val_loss));
    assert.ok(events.some((e) => e.type === 'progress' && e.phase === 'quantize'));
    assert.ok(events.some((e) => e.type === 'checkpoint'));
  });

  it('a cancelled job leaves the variant cancelled, with no checkpoint', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(derivedStart.run(spec('int8-b'), await context([], controller.signal)), (e: { code?: string }) => e.code === 'JOB_CANCELLED');
    const dir = path.join(tmp, 'variants', 'int8-b');
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')).status, 'cancelled');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'checkpoints')), []);
  });
});
