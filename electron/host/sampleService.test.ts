/**
 * Sampling and fill-mask through the host with the real engine process: two tiny runs (a character GPT
 * with a long context, a WordPiece BERT) are trained through runs.start, then inspect.sample streams
 * onSampleText pieces keyed by the run and the request id that add up to onSampleEnded's texts, the same
 * seed repeats them, inspect.stopSample ends a request within a second, and inspect.fillMask answers with the
 * top-k per [MASK]. Refusals reach the caller naming the field and the figures.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineError } from '../../common/errors';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../../common/experiment';
import type { ParamsOf, PayloadOf, WorkbenchEvent } from '../../common/workbenchApi';
import { nodeForkEngine } from './engineSupervisor';
import { createWorkbenchHost, type WorkbenchHost } from './workbenchHost';

const SHAKESPEARE = path.resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt');
const cleaning = { normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 };
const pretrain = { steps: 6, batchSize: 4, seqLen: 24, evalInterval: 3, evalBatches: 1, schedule: { warmupSteps: 1 } };
const experiment = {
  format: EXPERIMENT_FORMAT,
  version: EXPERIMENT_VERSION,
  name: 'tiny inspect',
  cells: [
    { id: 'chars', kind: 'dataset', dataset: { source: { kind: 'file', path: 'small.txt', unit: 'paragraph' }, split: 'tail', cleaning }, tokenizer: { kind: 'char' } },
    { id: 'gpt', kind: 'model', model: { arch: 'gpt', contextLength: 1024, dModel: 16, nHeads: 2, nLayers: 2 } },
    { id: 'train-gpt', kind: 'pretrain', pretrain },
    { id: 'words', kind: 'dataset', dataset: { source: { kind: 'file', path: 'small.txt', unit: 'paragraph' }, split: 'tail', cleaning }, tokenizer: { kind: 'wordpiece', vocabSize: 300 } },
    { id: 'bert', kind: 'model', model: { arch: 'bert', contextLength: 24, dModel: 16, nHeads: 2, nLayers: 2, dFF: 32 } },
    { id: 'train-bert', kind: 'pretrain', pretrain: { ...pretrain, objective: 'mlm' } },
  ],
};

let tmp: string;
let host: WorkbenchHost;
let experimentPath: string;
let gpt: string;
let bert: string;
const texts: PayloadOf<'onSampleText'>[] = [];
let requests = 0;

/** the next `event` that `match` accepts; listening starts now, so call it before what causes the event */
function nextEvent<E extends WorkbenchEvent>(event: E, match: (p: PayloadOf<E>) => boolean, ms = 120_000): Promise<PayloadOf<E>> {
  return new Promise((resolve, reject) => {
    const off = host.on(event, (p) => {
      if (!match(p)) return;
      clearTimeout(timer);
      off();
      resolve(p);
    });
    const timer = setTimeout(() => { off(); reject(new Error(`no matching ${event} within ${ms} ms`)); }, ms);
  });
}

/** trains a pretrain cell through runs.start (one at a time); the run's id */
async function train(cellId: string): Promise<string> {
  const ended = nextEvent('onJobEnded', (e) => e.experimentPath === experimentPath);
  const { runId } = await host.call('runs.start', { experimentPath, cellId });
  const outcome = await ended;
  assert.equal(outcome.runId, runId);
  assert.equal(outcome.outcome, 'done', JSON.stringify(outcome));
  return runId;
}

type SampleCall = ParamsOf<'inspect.sample'>;
const sampleParams = (o: Partial<SampleCall> = {}): SampleCall => ({
  experimentPath, runId: gpt, checkpoint: 'last', requestId: `r${++requests}`,
  prompt: 'ROMEO:', maxNewTokens: 60, temperature: 0.8, topK: 0, topP: 1, seed: 11, numSamples: 2, ...o,
});

/** one request to its end: its streamed pieces and its onSampleEnded */
async function sample(p: SampleCall): Promise<{ pieces: PayloadOf<'onSampleText'>[]; end: PayloadOf<'onSampleEnded'> }> {
  const ended = nextEvent('onSampleEnded', (e) => e.requestId === p.requestId);
  await host.call('inspect.sample', p);
  const end = await ended;
  return { pieces: texts.filter((t) => t.requestId === p.requestId), end };
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'host-sample-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 30_000));
  experimentPath = path.join(tmp, 'tiny.experiment.json');
  fs.writeFileSync(experimentPath, JSON.stringify(experiment, null, 2));
  host = createWorkbenchHost({
    configDir: path.join(tmp, 'config'), workspaceRoot: tmp,
    engine: { fork: nodeForkEngine({ env: { XDG_CACHE_HOME: path.join(tmp, 'cache') } }) },
  });
  host.on('onSampleText', (t) => texts.push(t));
  gpt = await train('train-gpt');
  bert = await train('train-bert');
});
after(async () => {
  await host.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('inspect.sample through the host', () => {
  it('streams pieces keyed by the run and the request that add up to the ended texts; the same seed repeats them', async () => {
    const { pieces, end } = await sample(sampleParams());
    assert.equal(end.outcome, 'done', JSON.stringify(end.error));
    assert.equal(end.experimentPath, experimentPath);
    assert.equal(end.runId, gpt);
    const result = end.result!;
    assert.equal(result.samples.length, 2);
    assert.equal(result.maxNewTokens, 60);
    for (const [s, r] of result.samples.entries()) {
      const mine = pieces.filter((p) => p.sample === s);
      assert.ok(mine.length >= 2, `sample ${s} came in ${mine.length} pieces`);
      assert.equal(mine.map((p) => p.text).join(''), r.text);
      assert.ok(mine.every((p) => p.runId === gpt && p.experimentPath === experimentPath && p.maxNewTokens === 60));
      assert.equal(mine.at(-1)!.newTokens, 60);
    }
    const again = await sample(sampleParams());
    assert.deepEqual(again.end.result?.samples.map((s) => s.text), result.samples.map((s) => s.text));
    const greedy = await sample(sampleParams({ temperature: 0, numSamples: 1, seed: 1 }));
    const greedy2 = await sample(sampleParams({ temperature: 0, numSamples: 1, seed: 2 }));
    assert.equal(greedy.end.result?.samples[0].text, greedy2.end.result?.samples[0].text, 'greedy ignores the seed');
  });

  it('inspect.stopSample ends a request within a second; a second cancel says it is over', async () => {
    const p = sampleParams({ maxNewTokens: 1024, numSamples: 8 });
    const first = nextEvent('onSampleText', (t) => t.requestId === p.requestId);
    const ended = nextEvent('onSampleEnded', (e) => e.requestId === p.requestId, 5000);
    await host.call('inspect.sample', p);
    await first;
    const t0 = performance.now();
    await host.call('inspect.stopSample', { requestId: p.requestId });
    const end = await ended;
    const took = performance.now() - t0;
    assert.equal(end.outcome, 'cancelled');
    assert.ok(took < 1000, `ended ${took.toFixed(0)} ms after the cancel`);
    await assert.rejects(host.call('inspect.stopSample', { requestId: p.requestId }), (e: EngineError) => e.code === 'JOB_NOT_FOUND' && /is not sampling/.test(e.message));
  });

  it('refuses a BERT run, a prompt beyond the context, a bad field and a path outside the workspace, naming each', async () => {
    const onBert = await sample(sampleParams({ runId: bert }));
    assert.equal(onBert.end.outcome, 'failed');
    assert.match(onBert.end.error!.message, /holds a BERT model, which does not generate text; sampling needs a GPT run — for this run use fill-mask/);
    const long = await sample(sampleParams({ prompt: 'y'.repeat(1100) }));
    assert.match(long.end.error!.message, /the prompt is 1100 tokens, longer than the model's context of 1024 tokens/);
    await assert.rejects(host.call('inspect.sample', sampleParams({ topP: 0 })), (e: EngineError) => e.code === 'BAD_MESSAGE' && /inspect\.sample: topP/.test(e.message));
    await assert.rejects(host.call('inspect.sample', sampleParams({ requestId: 'no spaces' })), (e: EngineError) => /requestId/.test(e.message));
    await assert.rejects(host.call('inspect.sample', sampleParams({ experimentPath: '/etc/x.experiment.json' })), (e: EngineError) => /outside the workspace/.test(e.message));
  });
});

describe('inspect.fillMask through the host', () => {
  it('answers with the top-k tokens per [MASK]; a GPT run is refused, naming sample', async () => {
    const r = await host.call('inspect.fillMask', { experimentPath, runId: bert, checkpoint: 'last', text: 'the [MASK] of [MASK]', topK: 5 });
    assert.equal(r.masks.length, 2);
    for (const m of r.masks) {
      assert.equal(r.tokens[m.position], '[MASK]');
      assert.equal(m.candidates.length, 5);
      assert.ok(m.candidates[0].probability >= m.candidates[4].probability);
    }
    await assert.rejects(host.call('inspect.fillMask', { experimentPath, runId: gpt, checkpoint: 'last', text: 'a [MASK]', topK: 5 }),
      (e: EngineError) => /holds a GPT model, which has no masked-LM head; fill-mask needs a BERT run — for this run use sample/.test(e.message));
    await assert.rejects(host.call('inspect.fillMask', { experimentPath, runId: bert, checkpoint: 'best', text: 'a [MASK]', topK: 51 }),
      (e: EngineError) => e.code === 'BAD_MESSAGE' && /topK/.test(e.message));
  });
});
