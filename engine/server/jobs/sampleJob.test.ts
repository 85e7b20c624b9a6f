/**
 * The inspect jobs in the real engine process, on tiny trained runs: a sample streams in bounded pieces that
 * add up to its text, the same seed repeats it, job.cancel stops it within a second, and fill-mask lists the
 * top-k per [MASK]. Refusals name the field: the other kind of run (and the job to use), a prompt or a
 * length beyond the context (both figures), a checkpoint that does not exist, a model too big to build.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EventOf, JobEndEvent, JobEvent, JobSpecOf } from '../../../common/protocol';
import { SAMPLE_LIMITS } from '../../../common/sampling';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../../inspect/tinyRuns.testing';
import { useBackend } from '../../testing';
import { startEngine, within, type EngineProcess } from '../testClient';

/** a long context (trained on short sequences, so the run stays quick) leaves room for a sample that outlasts a cancel */
const LONG_GPT = { ...TINY_GPT, contextLength: 1024 };
let tmp: string;
let gptDir: string;
let bertDir: string;
let engine: EngineProcess;
let jobs = 0;

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sample-job-'));
  gptDir = await tinyRun(path.join(tmp, 'gpt'), LONG_GPT, { pretrain: { seqLen: 24 } });
  bertDir = await tinyRun(path.join(tmp, 'bert'), TINY_BERT, { tokenizer: tinyBertTokenizer });
  engine = await startEngine();
  await engine.client.hello();
  await engine.client.request({ type: 'backend.select', backend: 'cpu' });
});
after(async () => {
  await engine?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const sampleSpec = (o: Partial<JobSpecOf<'inspect.sample'>> = {}): JobSpecOf<'inspect.sample'> => ({
  kind: 'inspect.sample', runDir: gptDir, checkpoint: 'last', prompt: 'ROMEO:', maxNewTokens: 100, temperature: 0.8, topK: 0, topP: 1, seed: 7, numSamples: 2, ...o,
});

/** runs a job to its end, with every event it sent */
async function run(job: JobSpecOf<'inspect.sample' | 'inspect.fillMask'>, onEvent?: (e: JobEvent, jobId: string) => void): Promise<{ end: JobEndEvent; events: JobEvent[] }> {
  const events: JobEvent[] = [];
  const jobId = `j${++jobs}`;
  const { accepted, ended } = engine.client.startJob(jobId, job, (e) => { events.push(e); onEvent?.(e, jobId); });
  await accepted;
  return { end: await within(ended, 120_000, `job ${job.kind}`), events };
}

function failure(end: JobEndEvent): { message: string; path?: (string | number)[] } {
  assert.equal(end.type, 'onJobFailed', JSON.stringify(end));
  return (end as EventOf<'onJobFailed'>).error;
}

describe('inspect.sample in the engine process', () => {
  it('streams each sample in pieces of at most the stated size that add up to its text; the same seed repeats it', async () => {
    const { end, events } = await run(sampleSpec());
    assert.equal(end.type, 'onJobDone', JSON.stringify(end));
    const result = (end as EventOf<'onJobDone'> & { kind: 'inspect.sample' }).result;
    assert.equal(result.samples.length, 2);
    assert.equal(result.contextLength, 1024);
    assert.equal(result.promptTokens, 6);
    const progress = events.filter((e): e is EventOf<'onJobProgress'> => e.type === 'onJobProgress');
    for (const [s, sample] of result.samples.entries()) {
      assert.equal(sample.newTokens, 100);
      assert.equal(sample.seed, 7 + s);
      const mine = progress.filter((p) => p.metrics?.sample === s);
      assert.ok(mine.length >= 100 / SAMPLE_LIMITS.streamTokens, `sample ${s} streamed in ${mine.length} pieces`);
      assert.equal(mine.map((p) => p.message).join(''), sample.text, 'the pieces are the text, in order');
      let last = 0;
      for (const p of mine) {
        assert.ok(p.step - last <= SAMPLE_LIMITS.streamTokens && p.step > last, `a piece of ${p.step - last} tokens`);
        assert.equal(p.total, 100);
        assert.ok((p.metrics?.tokensPerSecond ?? 0) > 0);
        last = p.step;
      }
      assert.equal(last, 100);
    }
    assert.notEqual(result.samples[0].text, result.samples[1].text, 'each sample has its own seed');
    const again = await run(sampleSpec());
    assert.deepEqual((again.end as { result?: { samples: { text: string }[] } }).result?.samples.map((s) => s.text), result.samples.map((s) => s.text));
    const other = await run(sampleSpec({ seed: 8, numSamples: 1 }));
    assert.equal((other.end as { result?: { samples: { text: string }[] } }).result?.samples[0].text, result.samples[1].text, 'seed 8 is the second sample of seed 7');
  });

  it('job.cancel stops the generation within a second, keeping what streamed', async () => {
    let cancelledAt = 0;
    let streamed = 0;
    const { end } = await run(sampleSpec({ maxNewTokens: 1024, numSamples: 8 }), (e, jobId) => {
      if (e.type !== 'onJobProgress') return;
      streamed = e.step;
      if (!cancelledAt) { cancelledAt = performance.now(); void engine.client.cancelJob(jobId); }
    });
    const took = performance.now() - cancelledAt;
    assert.equal(end.type, 'onJobCancelled');
    assert.ok(took < 1000, `cancelled after ${took.toFixed(0)} ms`);
    assert.ok(streamed > 0 && streamed < 1024, `${streamed} tokens streamed before the stop`);
    const status = await engine.client.request({ type: 'status' });
    assert.deepEqual(status.jobs, [], 'the engine is free again');
  });

  it('refuses a BERT run (use fill-mask), a prompt longer than the context and more new tokens than the context, naming the figures', async () => {
    const bert = failure((await run(sampleSpec({ runDir: bertDir }))).end);
    assert.match(bert.message, /holds a BERT model, which does not generate text; sampling needs a GPT run — for this run use fill-mask/);
    assert.deepEqual(bert.path, ['runDir']);
    const long = failure((await run(sampleSpec({ prompt: 'x'.repeat(1030) }))).end);
    assert.match(long.message, /the prompt is 1030 tokens, longer than the model's context of 1024 tokens/);
    assert.deepEqual(long.path, ['prompt']);
    const many = failure((await run(sampleSpec({ maxNewTokens: 1025 }))).end);
    assert.match(many.message, /maxNewTokens 1025 is more than the model's context of 1024 tokens/);
    assert.deepEqual(many.path, ['maxNewTokens']);
    const ck = failure((await run(sampleSpec({ checkpoint: 'step-99999' }))).end);
    assert.match(ck.message, /no such checkpoint; this run has step-/);
  });

  it('refuses a model too big for this machine before building it (loadRunModel\'s memory check, on the job\'s backend)', async () => {
    const huge = path.join(tmp, 'huge');
    fs.cpSync(gptDir, huge, { recursive: true });
    const runJson = JSON.parse(fs.readFileSync(path.join(huge, 'run.json'), 'utf8'));
    runJson.config.spec.model = { ...runJson.config.spec.model, dModel: 16384, nHeads: 16, nLayers: 48 };
    fs.writeFileSync(path.join(huge, 'run.json'), JSON.stringify(runJson));
    const before = await engine.client.request({ type: 'status' });
    const t0 = performance.now();
    const refused = failure((await run(sampleSpec({ runDir: huge }))).end);
    assert.match(refused.message, /needs about .*, more than this machine's .* of memory leaves/);
    assert.deepEqual(refused.path, ['model']);
    assert.ok(performance.now() - t0 < 5000, 'refused at once, not after allocating');
    assert.equal((await engine.client.request({ type: 'status' })).memory.numTensors, before.memory.numTensors, 'no tensor was left behind');
  });

  it('refuses what the protocol bounds before the job starts: more new tokens than the cap, too many samples', async () => {
    await assert.rejects(engine.client.startJob('cap', sampleSpec({ maxNewTokens: SAMPLE_LIMITS.maxNewTokens + 1 })).accepted, /maxNewTokens/);
    await assert.rejects(engine.client.startJob('cap2', sampleSpec({ numSamples: SAMPLE_LIMITS.numSamples + 1 })).accepted, /numSamples/);
  });
});

describe('inspect.fillMask in the engine process', () => {
  it('lists the top-k tokens with probabilities, most likely first, at each [MASK]', async () => {
    const { end } = await run({ kind: 'inspect.fillMask', runDir: bertDir, checkpoint: 'last', text: 'the [MASK] is [MASK]', topK: 4 });
    assert.equal(end.type, 'onJobDone', JSON.stringify(end));
    const result = (end as EventOf<'onJobDone'> & { kind: 'inspect.fillMask' }).result;
    assert.equal(result.masks.length, 2);
    assert.equal(result.tokens[0], '[CLS]');
    for (const m of result.masks) {
      assert.equal(result.tokens[m.position], '[MASK]');
      assert.equal(m.candidates.length, 4);
      const ps = m.candidates.map((c) => c.probability);
      assert.deepEqual(ps, [...ps].sort((a, b) => b - a));
      assert.ok(ps[0] > 0 && ps.reduce((a, b) => a + b) <= 1 + 1e-6);
    }
  });

  it('refuses a GPT run (use sample) and a text without [MASK], naming the field', async () => {
    const gpt = failure((await run({ kind: 'inspect.fillMask', runDir: gptDir, checkpoint: 'last', text: 'a [MASK]', topK: 3 })).end);
    assert.match(gpt.message, /holds a GPT model, which has no masked-LM head; fill-mask needs a BERT run — for this run use sample/);
    const none = failure((await run({ kind: 'inspect.fillMask', runDir: bertDir, checkpoint: 'last', text: 'no mask here', topK: 3 })).end);
    assert.match(none.message, /has no \[MASK\] token/);
    assert.deepEqual(none.path, ['text']);
    const long = failure((await run({ kind: 'inspect.fillMask', runDir: bertDir, checkpoint: 'last', text: 'word '.repeat(40), topK: 3 })).end);
    assert.match(long.message, /is \d+ tokens, longer than the model's context of 24 tokens/);
  });
});
