/**
 * One sampling request as the panel shows it: the texts growing piece by piece from onSampleText, then
 * settled by onSampleEnded (its final texts replace the streamed ones, which they equal). Events of other
 * requests are ignored, so a late piece of a stopped request never lands in the next one.
 */
import type { SamplingParams } from '../../common/sampling';
import type { PayloadOf } from '../../common/workbenchApi';

export interface SampleView {
  seed: number;
  text: string;
  newTokens: number;
  tokensPerSecond: number;
}

export interface SampleRequest {
  requestId: string;
  params: SamplingParams;
  status: 'running' | 'done' | 'cancelled' | 'failed';
  samples: SampleView[];
  /** the checkpoint and the prompt's length in tokens, once the request is done */
  checkpoint?: { name: string; step: number };
  promptTokens?: number;
  contextLength?: number;
  error?: string;
}

/** a request id that fits the API's alphabet, unique enough for one page's requests */
export function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `s${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function startRequest(requestId: string, params: SamplingParams): SampleRequest {
  return { requestId, params, status: 'running', samples: [] };
}

export function applyText(r: SampleRequest, e: PayloadOf<'onSampleText'>): SampleRequest {
  if (e.requestId !== r.requestId || r.status !== 'running') return r;
  const samples = [...r.samples];
  while (samples.length <= e.sample) samples.push({ seed: r.params.seed + samples.length, text: '', newTokens: 0, tokensPerSecond: 0 });
  const s = samples[e.sample];
  samples[e.sample] = { ...s, text: s.text + e.text, newTokens: e.newTokens, tokensPerSecond: e.tokensPerSecond };
  return { ...r, samples };
}

export function applyEnded(r: SampleRequest, e: PayloadOf<'onSampleEnded'>): SampleRequest {
  if (e.requestId !== r.requestId) return r;
  if (e.outcome === 'failed') return { ...r, status: 'failed', error: e.error?.message ?? 'the request failed' };
  if (e.outcome === 'cancelled' || !e.result) return { ...r, status: 'cancelled' };
  const { result } = e;
  return { ...r, status: 'done', samples: result.samples, checkpoint: result.checkpoint, promptTokens: result.promptTokens, contextLength: result.contextLength };
}

/** What the panel says about a request: the length used (never a silent cap), and how it ended. */
export function describeRequest(r: SampleRequest): string {
  const { numSamples, maxNewTokens } = r.params;
  const what = `${numSamples} × ${maxNewTokens} new tokens`;
  const made = r.samples.reduce((n, s) => n + s.newTokens, 0);
  switch (r.status) {
    case 'running': return `Sampling ${what}… ${made} so far`;
    case 'cancelled': return `Stopped after ${made} of ${numSamples * maxNewTokens} new tokens`;
    case 'failed': return `Sampling ${what} failed`;
    case 'done': return `${what} after a prompt of ${r.promptTokens} tokens, from checkpoint ${r.checkpoint?.name} (step ${r.checkpoint?.step}); context ${r.contextLength} tokens`;
  }
}
