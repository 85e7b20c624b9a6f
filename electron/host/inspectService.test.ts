/**
 * The inspect methods with the real engine process and a real run: a tiny character GPT trained through
 * runs.start, then its checkpoints listed, a text's model view (thumbnails that are block means of the
 * heads the page can fetch in full), one head's full map, a replay over every kept checkpoint followed by
 * events, a head's statistics over training, and bad requests refused in words.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EngineError } from '../../common/errors';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../../common/experiment';
import { downsampleMap, float32FromBytes, fromBase64, quantizeThumb } from '../../common/inspect';
import type { PayloadOf } from '../../common/workbenchApi';
import { nodeForkEngine } from './engineSupervisor';
import { createWorkbenchHost, type WorkbenchHost } from './workbenchHost';

const SHAKESPEARE = path.resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt');
const TEXT = 'ROMEO: what light';
let tmp: string;
let host: WorkbenchHost;
let experimentPath: string;
let runId: string;
const progress: PayloadOf<'onInspectProgress'>[] = [];

const experiment = {
  format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'tiny inspect',
  cells: [
    { id: 'data', kind: 'dataset', dataset: { source: { kind: 'file', path: 'small.txt', unit: 'file' }, split: 'tail', cleaning: { normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } }, tokenizer: { kind: 'char' } },
    { id: 'model', kind: 'model', model: { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2 } },
    { id: 'pre', kind: 'pretrain', pretrain: { steps: 40, batchSize: 8, evalInterval: 10, evalBatches: 1, checkpointInterval: 10, keepCheckpoints: 5, schedule: { warmupSteps: 5 } } },
  ],
};

/** The next payload of `event` that `pick` accepts, or a timeout naming what was awaited. */
function nextEvent<E extends 'onInspectEnded' | 'onJobEnded' | 'onEngineStatus'>(event: E, pick: (p: PayloadOf<E>) => boolean, what: string, ms = 120_000): Promise<PayloadOf<E>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
    const off = host.on(event, (p) => { if (pick(p)) { clearTimeout(timer); off(); resolve(p); } });
  });
}

const mapOf = (data: string) => float32FromBytes(fromBase64(data));

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'host-inspect-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 40_000));
  experimentPath = path.join(tmp, 'tiny.experiment.json');
  fs.writeFileSync(experimentPath, JSON.stringify(experiment));
  host = createWorkbenchHost({ configDir: path.join(tmp, 'config'), engine: { fork: nodeForkEngine({ env: { XDG_CACHE_HOME: path.join(tmp, 'cache') } }) } });
  host.on('onInspectProgress', (e) => progress.push(e));
  const ready = nextEvent('onEngineStatus', (s) => s.state === 'ready', 'the engine');
  if (host.engine.getStatus().state !== 'ready') await ready;
  const done = nextEvent('onJobEnded', () => true, 'the run to end');
  runId = (await host.call('runs.start', { experimentPath, cellId: 'pre' })).runId;
  assert.equal((await done).outcome, 'done');
});
after(async () => {
  await host.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('inspect methods with the engine process', () => {
  it('lists the kept checkpoints oldest first, with the last and best among them', async () => {
    const c = await host.call('inspect.checkpoints', { experimentPath, runId });
    assert.ok(c.checkpoints.length >= 4, c.checkpoints.map((x) => x.name).join());
    assert.deepEqual(c.checkpoints.map((x) => x.step), [...c.checkpoints.map((x) => x.step)].sort((a, b) => a - b));
    assert.equal(c.last, c.checkpoints.at(-1)!.name);
    assert.ok(c.checkpoints.some((x) => x.name === c.best));
  });

  it('the model view\'s thumbnails are block means of the heads the page fetches in full; a head is a causal map whose rows sum to 1', async () => {
    const o = await host.call('inspect.open', { experimentPath, runId, checkpoint: 'last', text: TEXT });
    assert.deepEqual(o.tokens, [...TEXT]);
    assert.equal(o.T, TEXT.length);
    assert.equal(o.layers, 2);
    assert.equal(o.heads, 4);
    const S = o.thumbSize;
    assert.equal(S, TEXT.length, 'a map smaller than a thumbnail is shown cell for cell');
    const thumbs = fromBase64(o.thumbs);
    assert.equal(thumbs.length, 2 * 4 * S * S);
    assert.equal(o.stats.entropy.length, 2);
    for (const [l, h] of [[0, 0], [1, 3]]) {
      const head = await host.call('inspect.head', { experimentPath, runId, checkpoint: o.checkpoint, text: TEXT, layer: l, head: h });
      const map = mapOf(head.data);
      assert.equal(map.length, o.T * o.T);
      for (let q = 0; q < o.T; q++) {
        const row = map.subarray(q * o.T, (q + 1) * o.T);
        assert.ok(Math.abs(row.reduce((s, p) => s + p, 0) - 1) < 1e-5, `row ${q} sums to 1`);
        assert.ok(row.subarray(q + 1).every((p) => p === 0), 'no attention to later tokens');
      }
      const q = quantizeThumb(downsampleMap(map, o.T, S));
      assert.deepEqual(thumbs.subarray((l * 4 + h) * S * S, (l * 4 + h + 1) * S * S), q.bytes, `thumbnail of layer ${l} head ${h}`);
      assert.equal(o.thumbMax[l][h], q.max);
    }
  });

  it('replays a text over every kept checkpoint with progress events; each checkpoint\'s head differs', async () => {
    const { checkpoints } = await host.call('inspect.checkpoints', { experimentPath, runId });
    let jobId = '';
    const ended = nextEvent('onInspectEnded', (e) => e.jobId === jobId, 'the replay to end');
    const replay = await host.call('inspect.replay', { experimentPath, runId, text: 'JULIET: ay me' });
    jobId = replay.jobId;
    assert.deepEqual(replay.checkpoints, checkpoints);
    const end = await ended;
    assert.equal(end.outcome, 'done', JSON.stringify(end.error));
    const mine = progress.filter((p) => p.jobId === jobId);
    assert.deepEqual(mine.map((p) => `${p.done}/${p.total} ${p.checkpoint}`), checkpoints.map((c, i) => `${i + 1}/${checkpoints.length} ${c.name}`));
    const maps = new Set<string>();
    for (const c of checkpoints) {
      const h = await host.call('inspect.head', { experimentPath, runId, checkpoint: c.name, text: 'JULIET: ay me', layer: 1, head: 1 });
      assert.equal(h.step, c.step);
      maps.add(h.data);
    }
    assert.equal(maps.size, checkpoints.length);
  });

  it('a head\'s statistics over training come from attention-stats.jsonl, one value per evaluation', async () => {
    const h = await host.call('inspect.headHistory', { experimentPath, runId, layer: 1, head: 2 });
    assert.deepEqual(h.steps, [10, 20, 30, 40]);
    for (const stat of ['entropy', 'meanDistance', 'firstTokenShare', 'previousToken', 'induction']) {
      assert.equal(h.series[stat]?.length, 4, stat);
      assert.ok(h.series[stat]!.every((v) => typeof v === 'number' && Number.isFinite(v)), stat);
    }
    assert.equal(h.series.specialShare, undefined, 'a char model has no [CLS]/[SEP]');
    // the validation loss beside them: what metrics.jsonl logged at the same evaluations
    const curve = await host.call('runs.metrics', { experimentPath, runId });
    const logged = new Map(curve.filter((p) => typeof p.scalars['val/loss'] === 'number').map((p) => [p.step, p.scalars['val/loss']]));
    assert.deepEqual(h.valLoss, h.steps.map((s) => logged.get(s)));
    assert.ok(h.valLoss!.every((v) => typeof v === 'number'), JSON.stringify(h.valLoss));
  });

  it('refuses what it cannot do, in words', async () => {
    await assert.rejects(host.call('inspect.head', { experimentPath, runId, checkpoint: 'last', text: TEXT, layer: 2, head: 0 }),
      (e: EngineError) => e.code === 'INVALID_CONFIG' && /layer 2 head 0 is not in this model \(2 layers × 4 heads/.test(e.message));
    await assert.rejects(host.call('inspect.open', { experimentPath, runId, checkpoint: 'last', text: 'x'.repeat(33) }),
      (e: EngineError) => /is 33 tokens, longer than the model's context of 32 tokens/.test(e.message));
    await assert.rejects(host.call('inspect.open', { experimentPath, runId, checkpoint: 'step-7', text: TEXT }), (e: EngineError) => /has no checkpoint step-7/.test(e.message));
    await assert.rejects(host.call('inspect.open', { experimentPath, runId, checkpoint: 'last', text: '' }), (e: EngineError) => e.code === 'BAD_MESSAGE' && /text is empty/.test(e.message));
    await assert.rejects(host.call('inspect.cancelReplay', { jobId: 'inspect-none' }), (e: EngineError) => e.code === 'JOB_NOT_FOUND');
  });
});
