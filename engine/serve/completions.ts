/**
 * POST /v1/completions: OpenAI's text completion for a causal model. Each of the request's `n` choices is one
 * sequence handed to the batcher; with `stream: true` the text goes out as server-sent events in OpenAI's
 * chunk format as it is made, ending with `data: [DONE]`. The request ends early when its client goes away
 * (its sequences leave their batch) or its time is up (504, or an error event on a stream).
 */
import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EngineError } from '../../common/errors';
import { CompletionRequest, type CompletionChunk, type CompletionResponse } from '../../common/serveApi';
import type { Tokenizer } from '../tokenizers';
import type { Batcher, EndReason, SequenceJob } from './batcher';
import { ApiFailure, invalid, parseBody, sendEvent, sendFailure, sendJson, startEvents } from './http';
import { StopText } from './stopText';

export interface CompletionContext {
  batcher: Batcher;
  tokenizer: Tokenizer;
  modelId: string;
  contextLength: number;
  requestTimeoutMs: number;
}

interface Choice {
  ids: number[];
  text: StopText;
  finish: EndReason | null;
  error?: unknown;
}

export async function completions(ctx: CompletionContext, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const r = parseBody(CompletionRequest, body);
  const room = ctx.batcher.opts.maxQueue;
  if (r.n > room) throw invalid(`n: ${r.n} choices never fit this server's queue of ${room} sequences (--max-queue); ask for at most ${room}`, 'n');
  const prompt = promptIds(ctx, r);
  const sampling = { temperature: r.temperature, topK: r.top_k, topP: r.top_p };
  const stops = r.stop === undefined ? [] : typeof r.stop === 'string' ? [r.stop] : r.stop;
  const seed = r.seed ?? crypto.randomInt(2 ** 31 - 1);
  const id = `cmpl-${crypto.randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (index: number, text: string, finish: 'stop' | 'length' | null): CompletionChunk => ({
    id, object: 'text_completion', created, model: ctx.modelId, choices: [{ text, index, logprobs: null, finish_reason: finish }],
  });

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort('timeout'), ctx.requestTimeoutMs);
  res.on('close', () => { if (!res.writableEnded) controller.abort('disconnected'); });
  const choices: Choice[] = [];
  let ended = 0;
  let allEnded!: () => void;
  const finished = new Promise<void>((resolve) => { allEnded = resolve; });
  const jobs: SequenceJob[] = Array.from({ length: r.n }, (_, index) => {
    const c: Choice = { ids: [], text: new StopText((x) => ctx.tokenizer.decode(x), stops), finish: null };
    choices.push(c);
    return {
      prompt, maxTokens: r.max_tokens, sampling, seed: seed + index, signal: controller.signal,
      onToken(token) {
        c.ids.push(token);
        const { piece, stopped } = c.text.push(c.ids);
        if (r.stream && piece) sendEvent(res, chunk(index, piece, null));
        return stopped;
      },
      onEnd(reason, error) {
        if (c.finish) return;
        c.finish = reason;
        c.error = error;
        const tail = reason === 'length' ? c.text.end() : '';
        if (r.stream && (reason === 'stop' || reason === 'length')) sendEvent(res, chunk(index, tail, reason));
        if (++ended === r.n) allEnded();
      },
    };
  });
  if (!ctx.batcher.submit(jobs)) {
    clearTimeout(timer);
    throw new ApiFailure(429, `the server is busy: its queue holds ${ctx.batcher.opts.maxQueue} sequences (--max-queue) and has no room for ${r.n} more; retry after the Retry-After seconds`, 'rate_limit_error', null, { 'Retry-After': '1' });
  }
  if (r.stream) startEvents(res);
  await finished;
  clearTimeout(timer);
  if (controller.signal.aborted && controller.signal.reason === 'disconnected') return;
  const failure = controller.signal.aborted
    ? new ApiFailure(504, `the request took longer than this server's limit of ${ctx.requestTimeoutMs} ms (--request-timeout-ms); ask for fewer tokens or retry when the server is less busy`, 'timeout_error')
    : choices.some((c) => c.finish === 'error')
      ? new ApiFailure(500, `generation failed: ${(choices.find((c) => c.error)?.error as Error | undefined)?.message ?? 'unknown error'}`, 'server_error')
      : choices.some((c) => c.finish === 'cancelled')
        ? new ApiFailure(503, 'the server is shutting down; the request was cancelled', 'server_error')
        : null;
  if (r.stream) {
    if (failure) sendEvent(res, failure.body);
    else sendEvent(res, '[DONE]');
    return void res.end();
  }
  if (failure) return sendFailure(res, failure);
  const completionTokens = choices.reduce((n, c) => n + c.ids.length, 0);
  const reply: CompletionResponse = {
    id, object: 'text_completion', created, model: ctx.modelId,
    choices: choices.map((c, index) => ({ text: c.text.released, index, logprobs: null, finish_reason: c.finish === 'stop' ? 'stop' : 'length' })),
    usage: { prompt_tokens: prompt.length, completion_tokens: completionTokens, total_tokens: prompt.length + completionTokens },
  };
  sendJson(res, 200, reply);
}

/** The prompt's tokens, refused when it and the tokens asked for do not fit the model's context (naming both limits). */
function promptIds(ctx: CompletionContext, r: CompletionRequest): number[] {
  let ids: number[];
  try {
    ids = ctx.tokenizer.encode(r.prompt);
  } catch (err) {
    if (err instanceof EngineError) throw invalid(`prompt: ${err.message}`, 'prompt'); // a character the tokenizer cannot read
    throw err;
  }
  if (!ids.length) throw invalid('prompt: has no tokens; give a prompt of at least one token', 'prompt');
  const C = ctx.contextLength;
  if (ids.length + r.max_tokens > C) {
    const fix = ids.length >= C ? `shorten the prompt to fewer than ${C} tokens`
      : `lower max_tokens to at most ${C - ids.length}${r.max_tokens < C ? ` or shorten the prompt to at most ${C - r.max_tokens} tokens` : ''}`;
    throw invalid(`the prompt is ${ids.length} tokens and max_tokens is ${r.max_tokens}: together more than this model's context of ${C} tokens; ${fix}`, ids.length < C ? 'max_tokens' : 'prompt');
  }
  return ids;
}
