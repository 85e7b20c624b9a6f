import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  COMMAND_RESULTS, COMMAND_TYPES, EVENT_TYPES, MAX_MESSAGE_CHARS, OnReply, PROTOCOL_VERSION,
  checkProtocolVersion, parseCommand, parseEvent, type Command,
} from '../../common/protocol';
import { EngineError, toSerializedError } from '../../common/errors';

const describeJob = { kind: 'model.describe', model: { arch: 'gpt', vocabSize: 10, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 1 } } as const;

function preview(raw: unknown): string {
  try {
    return String(typeof raw === 'object' ? JSON.stringify(raw) : raw).slice(0, 200);
  } catch {
    return Object.prototype.toString.call(raw);
  }
}

function refused(raw: unknown) {
  const r = parseCommand(raw);
  if (r.ok) assert.fail(`expected ${preview(raw)} to be refused`);
  return r as Extract<typeof r, { ok: false }>;
}

test('every command of the protocol parses, from an object or from its JSON text', () => {
  const commands: Command[] = [
    { type: 'hello', id: 'a', protocolVersion: PROTOCOL_VERSION },
    { type: 'backend.select', id: 'b', backend: 'wasm', threads: 2 },
    { type: 'job.start', id: 'c', jobId: 'job-1', job: describeJob },
    { type: 'job.start', id: 'c2', jobId: 'job.2', job: { kind: 'model.trainSteps', model: describeJob.model, steps: 3, batchSize: 2, seqLen: 8, seed: 1, backend: 'cpu' } },
    { type: 'job.cancel', id: 'd', jobId: 'job-1' },
    { type: 'job.control', id: 'd2', jobId: 'job-1', action: 'pause' },
    { type: 'job.start', id: 'c3', jobId: 'run-1', job: { kind: 'pretrain.start', name: 'n', dataset: { source: { kind: 'corpus', corpus: 'brown' } }, tokenizer: { kind: 'char' }, model: { arch: 'gpt' }, pretrain: {}, runsDir: '/r', baseDir: '/b', steps: 5 } },
    { type: 'job.start', id: 'c4', jobId: 'run-2', job: { kind: 'pretrain.resume', runDir: '/r/1', backend: 'wasm' } },
    { type: 'status', id: 'e' },
    { type: 'shutdown', id: 'f' },
  ];
  assert.deepEqual(new Set(commands.map((c) => c.type)), new Set(COMMAND_TYPES));
  for (const c of commands) {
    assert.deepEqual(parseCommand(c), { ok: true, value: c });
    assert.deepEqual(parseCommand(JSON.stringify(c)), { ok: true, value: c });
  }
});

test('a reply variant exists for every command, and every event type parses', () => {
  const replied = OnReply.options.map((o) => o.shape.command.value);
  assert.deepEqual(new Set(replied), new Set(Object.keys(COMMAND_RESULTS)));
  assert.deepEqual(new Set(replied), new Set(COMMAND_TYPES));
  const backend = { name: 'cpu', tfBackend: 'cpu', package: '@tensorflow/tfjs-backend-cpu', version: '4.22.0', device: 'x', threads: 1 };
  const samples = [
    { type: 'onReady', engineVersion: '0.1.0', protocolVersion: '1.0', pid: 1 },
    { type: 'onReply', id: 'a', command: 'job.start', result: { jobId: 'j' } },
    { type: 'onError', id: null, error: { code: 'BAD_MESSAGE', message: 'm', path: ['type'] } },
    { type: 'onJobStarted', jobId: 'j', kind: 'model.trainSteps', backend },
    { type: 'onJobProgress', jobId: 'j', step: 1, total: 2, metrics: { loss: 2.3, bad: null } },
    { type: 'onJobDone', jobId: 'j', kind: 'model.describe', result: { config: { arch: 'gpt' }, stats: { parameters: 1, nonEmbeddingParameters: 0, forwardFlopsPerToken: 2, trainingFlopsPerToken: 6 } } },
    { type: 'onJobFailed', jobId: 'j', error: { code: 'INVALID_CONFIG', message: 'm' } },
    { type: 'onJobCancelled', jobId: 'j' },
    { type: 'onLog', level: 'info', message: 'hi' },
    { type: 'onRunEvents', jobId: 'j', events: [
      { type: 'step', step: 3, totalSteps: 10, tokens: 300, scalars: { 'train/loss': 2.5, 'grad/global_norm': null }, etaSeconds: 7 },
      { type: 'eval', step: 3, train: { loss: 2.4, perplexity: 11 }, val: { loss: 2.5, perplexity: 12.2, mlmAccuracy: 0.3 } },
      { type: 'diagnostic', diagnostic: { kind: 'overfitting', severity: 'warning', step: 3, message: 'm', advice: 'a' } },
      { type: 'status', status: 'paused', runId: 'r', runDir: '/r' },
    ] },
  ];
  assert.deepEqual(new Set(samples.map((s) => s.type)), new Set(EVENT_TYPES));
  for (const s of samples) assert.deepEqual(parseEvent(s), { ok: true, value: s }, s.type);
  // a reply whose result does not fit its command is refused, naming the field
  const bad = parseEvent({ type: 'onReply', id: 'a', command: 'job.start', result: { jobId: 3 } });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual(bad.error.path, ['result', 'jobId']);
});

test('a field of the wrong type is BAD_MESSAGE whose path and message name it, with the request id kept', () => {
  const r = refused({ type: 'job.start', id: 'r7', jobId: 'j', job: { ...describeJob, kind: 'model.trainSteps', steps: 'many', batchSize: 1, seqLen: 1, seed: 0 } });
  assert.equal(r.error.code, 'BAD_MESSAGE');
  assert.equal(r.id, 'r7');
  assert.deepEqual(r.error.path, ['job', 'steps']);
  assert.match(r.error.message, /job\.steps/);
});

test('an unknown field is refused, and the path names that field', () => {
  const r = refused({ type: 'status', id: 's', verbose: true });
  assert.equal(r.error.code, 'BAD_MESSAGE');
  assert.deepEqual(r.error.path, ['verbose']);
});

test('unknown commands are UNKNOWN_COMMAND; a missing or non-string type is BAD_MESSAGE', () => {
  const u = refused({ type: 'train', id: 'q' });
  assert.equal(u.error.code, 'UNKNOWN_COMMAND');
  assert.equal(u.id, 'q');
  assert.match(u.error.message, /"train".*hello/);
  assert.equal(refused({ id: 'q' }).error.code, 'BAD_MESSAGE');
  assert.equal(refused({ type: 7 }).error.code, 'BAD_MESSAGE');
  assert.equal(refused({ type: 'toString', id: 'x' }).error.code, 'UNKNOWN_COMMAND');
});

test('non-objects, bad JSON, oversized and deeply nested messages are BAD_MESSAGE', () => {
  for (const raw of [null, 3, true, [], 'not json', '[1,2]', '"hello"', '{"type":', undefined, Symbol('s'), () => 1, 10n]) {
    assert.equal(refused(raw).error.code, 'BAD_MESSAGE');
  }
  const bigText = JSON.stringify({ type: 'hello', id: 'x', protocolVersion: 'x'.repeat(MAX_MESSAGE_CHARS) });
  assert.match(refused(bigText).error.message, /over the limit/);
  const bigObject = { type: 'status', id: 'x', pad: Array.from({ length: 1000 }, () => 'y'.repeat(MAX_MESSAGE_CHARS / 500)) };
  const big = refused(bigObject);
  assert.match(big.error.message, /larger than the limit/);
  assert.equal(big.id, 'x');
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.match(refused({ type: 'status', id: 'x', deep }).error.message, /nested deeper/);
  assert.equal(refused({ type: 'status', id: 'x', when: new Date() }).error.code, 'BAD_MESSAGE');
  assert.equal(refused({ type: 'backend.select', id: 'x', backend: 'cpu', threads: NaN }).error.code, 'BAD_MESSAGE');
});

test('keys that reach prototypes are refused anywhere in a message', () => {
  const texts = [
    '{"type":"hello","id":"p","protocolVersion":"1.0","__proto__":{"polluted":true}}',
    '{"type":"job.start","id":"p","jobId":"j","job":{"kind":"model.describe","model":{"constructor":{"prototype":{"polluted":true}}}}}',
    '{"type":"status","id":"p","x":[{"prototype":1}]}',
  ];
  for (const text of texts) {
    for (const raw of [text, JSON.parse(text)]) {
      const r = refused(raw);
      assert.equal(r.error.code, 'BAD_MESSAGE');
      assert.match(r.error.message, /is not allowed/);
    }
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('job ids are kept to a file-name-safe alphabet', () => {
  for (const jobId of ['../x', 'a/b', '', '.hidden', 'x'.repeat(129), 'a b']) {
    assert.deepEqual(refused({ type: 'job.cancel', id: 'c', jobId }).error.path, ['jobId']);
  }
});

test('the handshake refuses another major and accepts another minor', () => {
  assert.equal(checkProtocolVersion(PROTOCOL_VERSION), null);
  assert.equal(checkProtocolVersion(`${PROTOCOL_VERSION.split('.')[0]}.99`), null);
  const refusal = checkProtocolVersion('2.0');
  assert.equal(refusal?.code, 'PROTOCOL_VERSION');
  assert.match(refusal!.message, /2\.0.*1\.0/);
});

test('thrown values serialize: EngineErrors keep their code, anything else is INTERNAL', () => {
  assert.deepEqual(toSerializedError(new EngineError('BUSY', 'b', ['x'])), { code: 'BUSY', message: 'b', path: ['x'] });
  assert.equal(toSerializedError(new TypeError('t')).code, 'INTERNAL');
  assert.match(toSerializedError('weird').message, /weird/);
});

test('property: parseCommand and parseEvent never throw, and refusals are well-formed errors', () => {
  const anyMessage = fc.oneof(
    fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withObjectString: true }),
    fc.json(),
    fc.string({ unit: 'binary' }),
    fc.record({ type: fc.constantFrom(...COMMAND_TYPES), id: fc.jsonValue() }, { requiredKeys: ['type'] }),
  );
  fc.assert(fc.property(anyMessage, (raw) => {
    for (const parse of [parseCommand, parseEvent]) {
      const r = parse(raw);
      if (!r.ok) {
        assert.ok(['BAD_MESSAGE', 'UNKNOWN_COMMAND'].includes(r.error.code));
        assert.ok(r.error.message.length > 0 && r.error.message.length < 2100);
      }
    }
  }), { numRuns: 3000 });
});
