/** The dispatcher on its own: fake backends, fake jobs, no process and no TensorFlow.js. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackendInfo, BackendName, BackendRequest } from '../../common/backends';
import { EngineError } from '../../common/errors';
import { PROTOCOL_VERSION, type EngineEvent, type JobSpecOf } from '../../common/protocol';
import { EngineServer } from './engineServer';
import type { JobHandler } from './job';
import { modelDescribe } from './jobs/modelDescribe';
import { JOB_HANDLERS } from './jobs';

const MODEL = { arch: 'gpt', vocabSize: 16, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 1 } as const;

function info(name: BackendName): BackendInfo {
  return { name, tfBackend: name, package: `pkg-${name}`, version: '1', device: 'test', threads: 1 };
}

/**
 * A stand-in for model.trainSteps whose behaviour the seed picks: 1 fails at step 2, 2 returns a result
 * that breaks its schema, 3 throws a non-Error; anything else runs `steps` steps.
 */
const fakeTrain: JobHandler<'model.trainSteps'> = {
  usesDevice: true,
  backendOf: (spec) => spec.backend,
  async run(spec, ctx) {
    for (let step = 1; step <= spec.steps; step++) {
      await ctx.checkpoint();
      if (spec.seed === 1 && step === 2) throw new EngineError('INVALID_CONFIG', 'step 2 is impossible', ['steps']);
      if (spec.seed === 3) throw 'a string';
      ctx.progress(step, spec.steps, { metrics: { loss: step === 1 ? NaN : 1 / step } });
    }
    if (spec.seed === 2) return { steps: -1 } as never;
    return { steps: spec.steps, losses: [], finalLoss: null, parameters: 0, elapsedMs: 0, tokensPerSecond: 0, backend: ctx.backend!, optimizer: 'fake' };
  },
};

function harness() {
  const events: EngineEvent[] = [];
  const selections: BackendRequest[] = [];
  let shutdowns = 0;
  const server = new EngineServer({
    emit: (e) => events.push(e),
    runtime: {
      engineVersion: '9.9.9',
      selectBackend: async (request) => {
        selections.push(request);
        if (request === 'node-gpu') throw new EngineError('BACKEND_UNAVAILABLE', 'no GPU here');
        return info(request === 'auto' ? 'cpu' : request);
      },
      availableBackends: async () => ['wasm', 'cpu'],
      memory: () => ({ numTensors: 0, numBytes: 0 }),
    },
    jobs: { ...JOB_HANDLERS, 'model.describe': modelDescribe, 'model.trainSteps': fakeTrain },
    onShutdown: () => { shutdowns++; },
    shutdownGraceMs: 2000,
  });
  let seq = 0;
  /** sends a command and resolves with its one answer (onReply or onError) */
  async function send(command: Record<string, unknown>): Promise<EngineEvent> {
    const id = `t${++seq}`;
    server.handle({ id, ...command });
    return waitFor((e) => (e.type === 'onReply' || e.type === 'onError') && e.id === id);
  }
  async function waitFor(match: (e: EngineEvent) => boolean, ms = 2000): Promise<EngineEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = events.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching event; got ${JSON.stringify(events.slice(-5))}`);
      await new Promise((r) => setImmediate(r));
    }
  }
  const train = (jobId: string, extra: Partial<JobSpecOf<'model.trainSteps'>> = {}) =>
    send({ type: 'job.start', jobId, job: { kind: 'model.trainSteps', model: MODEL, steps: 3, batchSize: 1, seqLen: 4, seed: 0, ...extra } });
  return { server, events, selections, send, waitFor, train, shutdowns: () => shutdowns };
}

test('hello answers with versions and picks a backend the first time only', async () => {
  const h = harness();
  const reply = await h.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION });
  assert.equal(reply.type, 'onReply');
  assert.deepEqual(reply.type === 'onReply' && reply.result, { engineVersion: '9.9.9', protocolVersion: PROTOCOL_VERSION, backend: info('cpu'), availableBackends: ['wasm', 'cpu'] });
  await h.send({ type: 'hello', protocolVersion: '1.7' });
  assert.deepEqual(h.selections, ['auto']);
  const refused = await h.send({ type: 'hello', protocolVersion: '0.9' });
  assert.equal(refused.type === 'onError' && refused.error.code, 'PROTOCOL_VERSION');
});

test('malformed messages are answered synchronously, once each, with the id when readable', () => {
  const h = harness();
  h.server.handle('{oops');
  h.server.handle({ type: 'nope', id: 'n1' });
  h.server.handle({ type: 'status', id: 's1', extra: 1 });
  assert.deepEqual(h.events.map((e) => e.type === 'onError' && [e.id, e.error.code]), [[null, 'BAD_MESSAGE'], ['n1', 'UNKNOWN_COMMAND'], ['s1', 'BAD_MESSAGE']]);
});

test('a job reports started, progress with non-finite metrics as null, and done; the result is checked', async () => {
  const h = harness();
  const accepted = await h.train('j1');
  assert.deepEqual(accepted.type === 'onReply' && accepted.result, { jobId: 'j1' });
  const done = await h.waitFor((e) => e.type === 'onJobDone');
  const mine = h.events.filter((e) => 'jobId' in e && e.jobId === 'j1');
  assert.deepEqual(mine.map((e) => e.type), ['onJobStarted', 'onJobProgress', 'onJobProgress', 'onJobProgress', 'onJobDone']);
  assert.ok(h.events.indexOf(accepted) < h.events.indexOf(mine[0]!), 'the reply to job.start comes before any job event');
  assert.deepEqual(mine[1]!.type === 'onJobProgress' && mine[1]!.metrics, { loss: null });
  assert.equal(done.type === 'onJobDone' && done.kind, 'model.trainSteps');

  await h.train('j2', { seed: 2 });
  const bad = await h.waitFor((e) => e.type === 'onJobFailed' && e.jobId === 'j2');
  assert.equal(bad.type === 'onJobFailed' && bad.error.code, 'INTERNAL');
  assert.match(bad.type === 'onJobFailed' ? bad.error.message : '', /breaks its schema/);
});

test('a failing job reports onJobFailed with its error and the next job runs', async () => {
  const h = harness();
  await h.train('f1', { seed: 1 });
  const failed = await h.waitFor((e) => e.type === 'onJobFailed');
  assert.deepEqual(failed, { type: 'onJobFailed', jobId: 'f1', error: { code: 'INVALID_CONFIG', message: 'step 2 is impossible', path: ['steps'] } });
  await h.train('f2', { seed: 3 });
  const odd = await h.waitFor((e) => e.type === 'onJobFailed' && e.jobId === 'f2');
  assert.equal(odd.type === 'onJobFailed' && odd.error.code, 'INTERNAL');
  await h.train('f3');
  await h.waitFor((e) => e.type === 'onJobDone' && e.jobId === 'f3');
});

test('one device job at a time: a second is BUSY, as is backend.select; describe runs beside it', async () => {
  const h = harness();
  await h.train('long', { steps: 100_000 });
  await h.waitFor((e) => e.type === 'onJobProgress');
  const busy = await h.train('second');
  assert.equal(busy.type === 'onError' && busy.error.code, 'BUSY');
  assert.match(busy.type === 'onError' ? busy.error.message : '', /long/);
  const select = await h.send({ type: 'backend.select', backend: 'wasm' });
  assert.equal(select.type === 'onError' && select.error.code, 'BUSY');
  const same = await h.send({ type: 'job.start', jobId: 'long', job: { kind: 'model.describe', model: MODEL } });
  assert.deepEqual(same.type === 'onError' && same.error.path, ['jobId']);
  await h.send({ type: 'job.start', jobId: 'd1', job: { kind: 'model.describe', model: MODEL } });
  const described = await h.waitFor((e) => e.type === 'onJobDone' && e.jobId === 'd1');
  assert.equal(described.type === 'onJobDone' && described.kind === 'model.describe' && described.result.config.headDim, 4);
  const status = await h.send({ type: 'status' });
  assert.deepEqual(status.type === 'onReply' && status.command === 'status' && status.result.jobs, [{ jobId: 'long', kind: 'model.trainSteps', cancelling: false }]);
  await h.send({ type: 'job.cancel', jobId: 'long' });
  await h.waitFor((e) => e.type === 'onJobCancelled' && e.jobId === 'long');
});

test('cancel stops a job between steps; cancelling an unknown job is JOB_NOT_FOUND', async () => {
  const h = harness();
  await h.train('c1', { steps: 100_000 });
  await h.waitFor((e) => e.type === 'onJobProgress' && e.step >= 3);
  const reply = await h.send({ type: 'job.cancel', jobId: 'c1' });
  assert.equal(reply.type, 'onReply');
  await h.waitFor((e) => e.type === 'onJobCancelled');
  const after = h.events.slice(h.events.findIndex((e) => e.type === 'onJobCancelled') + 1);
  assert.equal(after.filter((e) => 'jobId' in e && e.jobId === 'c1').length, 0, 'nothing of the job after onJobCancelled');
  const missing = await h.send({ type: 'job.cancel', jobId: 'c1' });
  assert.equal(missing.type === 'onError' && missing.error.code, 'JOB_NOT_FOUND');
  // cancelled before it started running: no onJobStarted, just onJobCancelled
  h.server.handle({ type: 'job.start', id: 'x1', jobId: 'c2', job: { kind: 'model.trainSteps', model: MODEL, steps: 1, batchSize: 1, seqLen: 1, seed: 0 } });
  h.server.handle({ type: 'job.cancel', id: 'x2', jobId: 'c2' });
  await h.waitFor((e) => e.type === 'onJobCancelled' && e.jobId === 'c2');
  assert.equal(h.events.some((e) => e.type === 'onJobStarted' && e.jobId === 'c2'), false);
});

test('a job on an absent backend fails with BACKEND_UNAVAILABLE and the old backend stays', async () => {
  const h = harness();
  await h.send({ type: 'backend.select', backend: 'wasm' });
  await h.train('g', { backend: 'node-gpu' });
  const failed = await h.waitFor((e) => e.type === 'onJobFailed');
  assert.equal(failed.type === 'onJobFailed' && failed.error.code, 'BACKEND_UNAVAILABLE');
  const status = await h.send({ type: 'status' });
  assert.equal(status.type === 'onReply' && status.command === 'status' && status.result.backend?.name, 'wasm');
});

test('shutdown cancels running jobs, waits for them, replies, then hands over to the process', async () => {
  const h = harness();
  await h.train('s1', { steps: 100_000 });
  await h.waitFor((e) => e.type === 'onJobProgress');
  const reply = await h.send({ type: 'shutdown' });
  assert.equal(reply.type, 'onReply');
  const order = h.events.map((e) => e.type);
  assert.ok(order.indexOf('onJobCancelled') < order.lastIndexOf('onReply'));
  assert.equal(h.shutdowns(), 1);
  const late = await h.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION });
  assert.equal(late.type === 'onError' && late.error.code, 'BUSY');
});

test('an uncaught error is reported as INTERNAL without a request id', () => {
  const h = harness();
  h.server.reportUncaught(new RangeError('boom'));
  assert.deepEqual(h.events, [{ type: 'onError', id: null, error: { code: 'INTERNAL', message: 'uncaught in the engine (it keeps serving): RangeError: boom' } }]);
});
