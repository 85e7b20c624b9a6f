/**
 * The inference server over real HTTP on 127.0.0.1, serving tiny trained runs: its gate, its limits
 * (413, 422, 429 with Retry-After, the request timeout), OpenAI's completion and stream formats, batched
 * answers equal to one-at-a-time ones, work that stops when the client goes away, and fill-mask on a BERT.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiError, CompletionChunk, CompletionResponse, FillMaskResponse, Health, ModelList } from '../../common/serveApi';
import { generate } from '../inspect/sample';
import { encodeInput } from '../inspect/attentionMaps';
import { fillMask } from '../inspect/fillMask';
import type { BERT } from '../models/bert/model';
import type { GPT } from '../models/gpt/model';
import { loadRunModel, type RunModel } from '../runs/loadRunModel';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { useBackend } from '../testing';
import { startServer, type RunningServer, type ServeOptions } from './server';
import { request, sseData, type RawRequest } from './serveClient.testing';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
let tmp: string;
let gpt: RunModel;
let bert: RunModel;
const servers: RunningServer[] = [];

async function serve(rm: RunModel, opts: ServeOptions = {}): Promise<RunningServer> {
  const s = await startServer(rm, opts);
  servers.push(s);
  return s;
}

/** A request with the token, as a program sends it (no Origin). */
function call(s: RunningServer, r: RawRequest) {
  return request(s.port, { ...r, headers: { Authorization: `Bearer ${s.token}`, ...r.headers } });
}

async function health(s: RunningServer) {
  return Health.parse(JSON.parse((await call(s, { path: '/health' })).body));
}

function apiError(body: string) {
  return ApiError.parse(JSON.parse(body)).error;
}

before(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-'));
  gpt = await loadRunModel(await tinyRun(path.join(tmp, 'gpt'), TINY_GPT));
  bert = await loadRunModel(await tinyRun(path.join(tmp, 'bert'), TINY_BERT, { tokenizer: tinyBertTokenizer }));
});

after(async () => {
  for (const s of servers) await s.close();
  gpt?.model.dispose();
  bert?.model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the gate: the same Host, Origin and token checks as browser mode', () => {
  it('refuses a missing or wrong token, a foreign Host and a foreign Origin; takes the token as Bearer or token, with or without Origin', async () => {
    const s = await serve(gpt);
    const body = { prompt: 'To be', max_tokens: 2, seed: 1 };
    const cases: [string, Record<string, string>, number][] = [
      ['no token', {}, 401],
      ['wrong token', { Authorization: `Bearer ${'0'.repeat(64)}` }, 403],
      ['DNS rebinding (Host)', { Authorization: `Bearer ${s.token}`, Host: `evil.example:${s.port}` }, 403],
      ['another page (Origin)', { Authorization: `Bearer ${s.token}`, Origin: 'http://evil.example' }, 403],
      ['another port (Origin)', { Authorization: `Bearer ${s.token}`, Origin: `http://127.0.0.1:${s.port + 1}` }, 403],
      ['Bearer, no Origin', { Authorization: `Bearer ${s.token}` }, 200],
      ['token, own Origin', { Authorization: `token ${s.token}`, Origin: `http://127.0.0.1:${s.port}` }, 200],
    ];
    for (const [what, headers, status] of cases) {
      const r = await request(s.port, { path: '/v1/completions', headers, body });
      assert.equal(r.status, status, `${what}: ${r.body}`);
      if (status !== 200) assert.match(apiError(r.body).message, /refused/, what);
    }
    assert.equal((await request(s.port, { path: `/health?token=${s.token}` })).status, 200, 'the token in the query string');
  });
});

describe('limits', () => {
  it('413 for a body past --max-body-bytes, naming the limit', async () => {
    const s = await serve(gpt, { maxBodyBytes: 1000 });
    const r = await call(s, { path: '/v1/completions', body: { prompt: 'x'.repeat(2000), max_tokens: 1 } });
    assert.equal(r.status, 413);
    assert.match(apiError(r.body).message, /limit of 1000 bytes \(--max-body-bytes\)/);
    assert.equal((await call(s, { path: '/health' })).status, 200, 'still serving');
  });

  it('422 for a prompt that does not fit the context with max_tokens, naming both and the fix; 422 for unknown or bad fields', async () => {
    const s = await serve(gpt);
    const C = gpt.model.config.contextLength;
    let r = await call(s, { path: '/v1/completions', body: { prompt: 'abcdefghij', max_tokens: C - 5 } });
    assert.equal(r.status, 422);
    let e = apiError(r.body);
    assert.equal(e.param, 'max_tokens');
    assert.match(e.message, new RegExp(`prompt is 10 tokens and max_tokens is ${C - 5}: together more than this model's context of ${C} tokens; lower max_tokens to at most ${C - 10}`));
    r = await call(s, { path: '/v1/completions', body: { prompt: 'a'.repeat(C + 1), max_tokens: 1 } });
    assert.equal(apiError(r.body).param, 'prompt');
    r = await call(s, { path: '/v1/completions', body: { prompt: 'a', logprobs: 3 } });
    assert.equal(r.status, 422);
    e = apiError(r.body);
    assert.deepEqual([e.param, /'logprobs' is not a field this server takes/.test(e.message)], ['logprobs', true]);
    r = await call(s, { path: '/v1/completions', body: { prompt: 'a', temperature: -1 } });
    assert.deepEqual([r.status, apiError(r.body).param], [422, 'temperature']);
    r = await call(s, { path: '/v1/completions', body: { prompt: '\u{1F600}' } });
    assert.deepEqual([r.status, apiError(r.body).param], [422, 'prompt'], 'a character the tokenizer was not trained on');
    assert.match(apiError(r.body).message, /not trained on/);
    r = await call(s, { path: '/v1/completions', body: '{"prompt": ' });
    assert.deepEqual([r.status, /not valid JSON/.test(apiError(r.body).message)], [400, true]);
  });

  it('refuses a --max-batch whose key/value cache cannot fit, and n beyond the queue', async () => {
    await assert.rejects(startServer(gpt, { maxBatch: 10_000_000 }), /--max-batch 10000000: a full batch's key\/value cache needs about .*; lower --max-batch to at most \d+/);
    const s = await serve(gpt, { maxQueue: 2 });
    const r = await call(s, { path: '/v1/completions', body: { prompt: 'a', max_tokens: 1, n: 3 } });
    assert.deepEqual([r.status, apiError(r.body).param], [422, 'n']);
    assert.match(apiError(r.body).message, /queue of 2 sequences \(--max-queue\)/);
  });

  it('429 with Retry-After when the queue is full, and the server keeps serving', async () => {
    const s = await serve(gpt, { maxBatch: 1, maxQueue: 1, batchWaitMs: 0, beforeStep: () => sleep(30) });
    const body = { prompt: 'To be', max_tokens: 6, seed: 2 };
    const running = call(s, { path: '/v1/completions', body });
    while ((await health(s)).active === 0) await sleep(5);
    const queued = call(s, { path: '/v1/completions', body });
    while ((await health(s)).queued === 0) await sleep(5);
    const refused = await call(s, { path: '/v1/completions', body });
    assert.equal(refused.status, 429, refused.body);
    assert.equal(refused.headers['retry-after'], '1');
    assert.match(apiError(refused.body).message, /queue holds 1 sequences \(--max-queue\)/);
    assert.deepEqual([(await running).status, (await queued).status], [200, 200]);
    assert.equal((await call(s, { path: '/v1/completions', body })).status, 200, 'serving again once the queue drained');
  });

  it('504 when a request outlives --request-timeout-ms, and its work stops', async () => {
    const s = await serve(gpt, { requestTimeoutMs: 200, beforeStep: () => sleep(40) });
    const t0 = performance.now();
    const r = await call(s, { path: '/v1/completions', body: { prompt: 'To be', max_tokens: 18, seed: 2 } });
    assert.equal(r.status, 504);
    assert.match(apiError(r.body).message, /limit of 200 ms \(--request-timeout-ms\)/);
    assert.ok(performance.now() - t0 < 3000, 'answered soon after the limit');
    const h = await health(s);
    assert.ok(h.tokens_generated < 18 && h.active === 0, `stopped early: ${JSON.stringify(h)}`);
  });
});

describe('completions', () => {
  it('answers in OpenAI\'s format with the text a single-sequence sampler draws from the same seed', async () => {
    const s = await serve(gpt);
    const r = await call(s, { path: '/v1/completions', body: { model: s.modelId, prompt: 'ROMEO:', max_tokens: 12, temperature: 0.9, top_k: 20, top_p: 0.95, seed: 7 } });
    assert.equal(r.status, 200, r.body);
    const reply = CompletionResponse.parse(JSON.parse(r.body));
    const prompt = gpt.tokenizer.encode('ROMEO:');
    const alone = await generate(gpt.model as GPT, prompt, { maxNewTokens: 12, temperature: 0.9, topK: 20, topP: 0.95, seed: 7 });
    assert.equal(reply.choices[0].text, gpt.tokenizer.decode(alone.ids));
    assert.deepEqual(reply.usage, { prompt_tokens: prompt.length, completion_tokens: 12, total_tokens: prompt.length + 12 });
    assert.equal(reply.choices[0].finish_reason, 'length');
    const models = ModelList.parse(JSON.parse((await call(s, { path: '/v1/models' })).body));
    assert.deepEqual(models.data.map((m) => [m.id, m.arch]), [[s.modelId, 'gpt']]);
    const other = await call(s, { path: '/v1/completions', body: { model: 'gpt-4', prompt: 'a' } });
    assert.deepEqual([other.status, apiError(other.body).param], [404, 'model']);
  });

  it('the same seed gives the same text; another seed another', async () => {
    const s = await serve(gpt);
    const text = async (seed: number) => CompletionResponse.parse(JSON.parse((await call(s, { path: '/v1/completions', body: { prompt: 'First', max_tokens: 16, seed } })).body)).choices[0].text;
    const a = await text(11);
    assert.equal(await text(11), a);
    assert.notEqual(await text(12), a);
  });

  it('streams server-sent events in OpenAI\'s chunk format, ending with [DONE], the same text as unstreamed', async () => {
    const s = await serve(gpt);
    const body = { prompt: 'king', max_tokens: 10, seed: 3, n: 2 };
    const plain = CompletionResponse.parse(JSON.parse((await call(s, { path: '/v1/completions', body })).body));
    const r = await call(s, { path: '/v1/completions', body: { ...body, stream: true } });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/event-stream/);
    const events = sseData(r.body);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => CompletionChunk.parse(JSON.parse(e)));
    for (const index of [0, 1]) {
      const mine = chunks.filter((c) => c.choices[0].index === index);
      assert.ok(mine.length >= 2, 'several chunks per choice');
      assert.equal(mine.map((c) => c.choices[0].text).join(''), plain.choices[index].text);
      assert.deepEqual(mine.map((c) => c.choices[0].finish_reason).filter(Boolean), ['length'], 'one finish_reason, on the last chunk');
      assert.equal(mine.at(-1)!.choices[0].finish_reason, 'length');
    }
    assert.notEqual(plain.choices[0].text, plain.choices[1].text, 'n choices draw from their own seeds');
  });

  it('stops at a stop sequence, which the text (streamed or not) does not include', async () => {
    const s = await serve(gpt);
    const body = { prompt: 'The', max_tokens: 20, seed: 5 };
    const full = CompletionResponse.parse(JSON.parse((await call(s, { path: '/v1/completions', body })).body)).choices[0].text;
    const stop = full.slice(8, 10);
    const expected = full.slice(0, full.indexOf(stop));
    const r = CompletionResponse.parse(JSON.parse((await call(s, { path: '/v1/completions', body: { ...body, stop: [stop, 'never there'] } })).body));
    assert.deepEqual([r.choices[0].text, r.choices[0].finish_reason], [expected, 'stop']);
    const streamed = sseData((await call(s, { path: '/v1/completions', body: { ...body, stop, stream: true } })).body);
    const chunks = streamed.slice(0, -1).map((e) => CompletionChunk.parse(JSON.parse(e)).choices[0]);
    assert.deepEqual([chunks.map((c) => c.text).join(''), chunks.at(-1)!.finish_reason], [expected, 'stop']);
  });

  it('requests that arrive together are decoded as one batch, each with the text it gets alone', async () => {
    const s = await serve(gpt, { maxBatch: 8, batchWaitMs: 50 });
    const prompts = ['To be', 'O', 'what light', 'king henry', 'a', 'now is the', 'friends', 'i'];
    const body = (prompt: string, i: number) => ({ prompt, max_tokens: 4 + i, temperature: 0.8, seed: 100 + i });
    const together = await Promise.all(prompts.map((p, i) => call(s, { path: '/v1/completions', body: body(p, i) })));
    assert.deepEqual(together.map((r) => r.status), prompts.map(() => 200), together.map((r) => r.body).join('\n'));
    const h = await health(s);
    assert.equal(h.batches, 1, 'one batch for eight requests that came within the wait window');
    for (const [i, p] of prompts.entries()) {
      const alone = await call(s, { path: '/v1/completions', body: body(p, i) });
      assert.equal(CompletionResponse.parse(JSON.parse(together[i].body)).choices[0].text, CompletionResponse.parse(JSON.parse(alone.body)).choices[0].text, `prompt ${JSON.stringify(p)}`);
    }
  });

  it('a request that arrives while a batch runs joins it, with the text it gets alone', async () => {
    const s = await serve(gpt, { maxBatch: 4, batchWaitMs: 0, beforeStep: () => sleep(15) });
    const first = { prompt: 'To be', max_tokens: 16, seed: 21 };
    const second = { prompt: 'what light', max_tokens: 8, seed: 22 };
    const a = call(s, { path: '/v1/completions', body: first });
    while ((await health(s)).active === 0) await sleep(5);
    const b = call(s, { path: '/v1/completions', body: second });
    let most = 0;
    while (most < 2 && (await health(s)).active > 0) { most = Math.max(most, (await health(s)).active); await sleep(5); }
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(most, 2, 'both decoded together');
    assert.equal((await health(s)).batches, 1, 'in the batch that was running');
    for (const [body, r] of [[first, ra], [second, rb]] as const) {
      const alone = await call(s, { path: '/v1/completions', body });
      assert.equal(CompletionResponse.parse(JSON.parse(r.body)).choices[0].text, CompletionResponse.parse(JSON.parse(alone.body)).choices[0].text, body.prompt);
    }
  });

  it('a client that disconnects has its work cancelled within a second', async () => {
    const s = await serve(gpt, { beforeStep: () => sleep(40) });
    let pieces = 0;
    await call(s, { path: '/v1/completions', body: { prompt: 'To be', max_tokens: 18, seed: 4, stream: true }, onData: () => ++pieces >= 2 });
    const t0 = performance.now();
    let h = await health(s);
    while (h.active > 0 && performance.now() - t0 < 1000) { await sleep(20); h = await health(s); }
    assert.equal(h.active, 0, 'the sequence left its batch');
    const generated = h.tokens_generated;
    assert.ok(generated < 18, `stopped before max_tokens: ${generated}`);
    await sleep(200);
    assert.equal((await health(s)).tokens_generated, generated, 'no more tokens after the cancel');
  });

  it('a server that shuts down answers the requests in flight with 503', async () => {
    const s = await serve(gpt, { beforeStep: () => sleep(40) });
    const inFlight = call(s, { path: '/v1/completions', body: { prompt: 'To be', max_tokens: 18, seed: 4 } });
    while ((await health(s)).active === 0) await sleep(5);
    const t0 = performance.now();
    await s.close();
    const r = await inFlight;
    assert.equal(r.status, 503, r.body);
    assert.match(apiError(r.body).message, /shutting down/);
    assert.ok(performance.now() - t0 < 3000, 'closed within a step and the flush');
  });

  it('a BERT server refuses completions, naming the endpoints it has', async () => {
    const s = await serve(bert);
    const r = await call(s, { path: '/v1/completions', body: { prompt: 'a' } });
    assert.equal(r.status, 422);
    assert.match(apiError(r.body).message, /bert model, which does not generate text; use \/v1\/fill-mask/);
  });
});

describe('encoder endpoints', () => {
  it('fill-mask on a BERT run gives the model\'s own top-k at each [MASK]', async () => {
    const s = await serve(bert);
    const input = 'the [MASK] of the king';
    const r = await call(s, { path: '/v1/fill-mask', body: { input, top_k: 3 } });
    assert.equal(r.status, 200, r.body);
    const reply = FillMaskResponse.parse(JSON.parse(r.body));
    const direct = fillMask(bert.model as BERT, bert.tokenizer, encodeInput(bert.tokenizer, bert.model.config, input), 3);
    assert.equal(reply.masks.length, 1);
    assert.deepEqual(reply.masks[0].candidates.map((c) => c.id), direct[0].candidates.map((c) => c.id));
    const noMask = await call(s, { path: '/v1/fill-mask', body: { input: 'no mask here' } });
    assert.deepEqual([noMask.status, apiError(noMask.body).param], [422, 'input']);
    assert.match(apiError(noMask.body).message, /no \[MASK\] token/);
  });

  it('classify without a classification head answers 501, saying which model has one', async () => {
    const s = await serve(bert);
    const r = await call(s, { path: '/v1/classify', body: { input: 'a text' } });
    assert.equal(r.status, 501);
    assert.match(apiError(r.body).message, /no classification head.*numLabels.*fine-tuning run/);
  });
});
