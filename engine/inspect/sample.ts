/**
 * Text from a causal model, token by token: temperature, top-k and nucleus (top-p) sampling from a seeded
 * generator (the same seed, the same text), with a key/value cache so that each new token costs one row
 * per layer. Beyond the context the window jumps: when the text outgrows it, the model goes on from the
 * last three quarters of a context (the cache is refilled once), instead of recomputing a window that
 * slides by one at every token. Without the cache the same windows are recomputed in full, which gives
 * the same logits: that is the benchmark's baseline and the test's reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EngineError } from '../../common/errors';
import type { GPT } from '../models/gpt/model';
import { KvCache } from '../models/gpt/kvCache';
import { Rng } from '../util/random';

export interface SamplingOptions {
  /** 0: always the most likely token (greedy) */
  temperature: number;
  /** keep the k most likely tokens; undefined or 0: all */
  topK?: number;
  /** keep the fewest most likely tokens whose probabilities reach p; undefined or 1: all */
  topP?: number;
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed: number;
  /** false: recompute the window at every token (the baseline the cache is measured against) */
  useCache?: boolean;
  /** each new token as it comes */
  onToken?: (id: number) => void;
  /** stops after the current token */
  signal?: AbortSignal;
}

export interface Generated {
  /** the new tokens, without the prompt */
  ids: number[];
  seconds: number;
  tokensPerSecond: number;
  /** true when the signal stopped it before maxNewTokens */
  stopped: boolean;
}

/** The token drawn from next-token `logits` with `rng`; every randomness comes from it. */
export function pickToken(logits: ArrayLike<number>, o: SamplingOptions, rng: Rng): number {
  const V = logits.length;
  let best = 0;
  for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
  if (o.temperature === 0) return best;
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  let keep = o.topK && o.topK > 0 ? Math.min(o.topK, V) : V;
  const weights = order.slice(0, keep).map((i) => Math.exp((logits[i] - logits[best]) / o.temperature));
  let total = weights.reduce((a, b) => a + b, 0);
  if (o.topP !== undefined && o.topP < 1) {
    let sum = 0;
    for (let j = 0; j < keep; j++) {
      sum += weights[j] / total;
      if (sum >= o.topP) { keep = j + 1; break; }
    }
    total = weights.slice(0, keep).reduce((a, b) => a + b, 0);
  }
  let u = rng.next() * total;
  for (let j = 0; j < keep; j++) {
    u -= weights[j];
    if (u < 0) return order[j];
  }
  return order[keep - 1];
}

/** Checks sampling options, with the flag to fix. */
export function checkSampling(o: SamplingOptions): void {
  const bad = (flag: string, why: string) => new EngineError('INVALID_CONFIG', `${flag} ${why}`, [flag.replace(/^--/, '')]);
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) throw bad('--temperature', `must be a number ≥ 0 (0 = greedy), not ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw bad('--top-k', `must be a whole number ≥ 0 (0 = all tokens), not ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw bad('--top-p', `must be in (0, 1], not ${o.topP}`);
}

/** Tokens the model sees after outgrowing its context: three quarters of it, so that a refill comes every quarter. */
export const windowAfterJump = (contextLength: number) => Math.max(1, contextLength - Math.floor(contextLength / 4));

/**
 * Next-token logits of the windows of a growing sequence, with or without the key/value cache: the same
 * numbers either way (only the work differs).
 */
export class NextTokenLogits {
  private start = 0;
  private readonly cache = new KvCache();

  constructor(private readonly model: GPT, private readonly useCache = true) {}

  /** The logits [V] after `seq`, which extends by one token the sequence of the previous call (or is new). */
  next(seq: readonly number[]): Float32Array {
    const C = this.model.config.contextLength;
    if (seq.length - this.start > C) this.start = seq.length - windowAfterJump(C);
    if (!this.useCache) return this.recompute(seq.slice(this.start));
    const fresh = this.cache.length !== seq.length - this.start - 1;
    if (fresh) this.cache.dispose();
    const feed = fresh ? seq.slice(this.start) : seq.slice(-1);
    return tf.tidy(() => {
      const logits = this.model.decode(tf.tensor2d(feed, [1, feed.length], 'int32'), this.cache); // [1, t, V]
      return tf.slice(logits, [0, feed.length - 1, 0], [1, 1, -1]).dataSync() as Float32Array;
    });
  }

  private recompute(window: number[]): Float32Array {
    return tf.tidy(() => {
      const T = window.length;
      const { hidden } = this.model.forward({ inputIds: tf.tensor2d(window, [1, T], 'int32') });
      const last = tf.slice(hidden, [0, T - 1, 0], [1, 1, -1]) as tf.Tensor3D; // [1, 1, d]
      return this.model.lmLogits(last).dataSync() as Float32Array;
    });
  }

  dispose(): void {
    this.cache.dispose();
  }
}

/**
 * Up to maxNewTokens tokens after `prompt`, drawn one at a time; between tokens the event loop runs, so that
 * a signal (Ctrl+C, a job's cancel) stops it after the current one.
 */
export async function generate(model: GPT, prompt: readonly number[], o: GenerateOptions): Promise<Generated> {
  checkSampling(o);
  if (prompt.length === 0) throw new EngineError('INVALID_CONFIG', 'the prompt has no tokens; give a prompt of at least one token', ['prompt']);
  const rng = new Rng(o.seed);
  const logits = new NextTokenLogits(model, o.useCache ?? true);
  const seq = [...prompt];
  const ids: number[] = [];
  const t0 = performance.now();
  try {
    while (ids.length < o.maxNewTokens && !o.signal?.aborted) {
      const id = pickToken(logits.next(seq), o, rng);
      seq.push(id);
      ids.push(id);
      o.onToken?.(id);
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    logits.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { ids, seconds, tokensPerSecond: ids.length / Math.max(seconds, 1e-9), stopped: ids.length < o.maxNewTokens };
}

/**
 * Decodes a growing list of ids to text pieces as they come: a piece is held back while it ends in an
 * incomplete character (a byte-level token that is half of a UTF-8 sequence decodes to U+FFFD).
 */
export class TextStream {
  private shown = 0;

  constructor(private readonly decode: (ids: number[]) => string) {}

  /** the new text after `ids` grew; '' while held back */
  push(ids: number[]): string {
    const text = this.decode(ids);
    if (text.endsWith('\uFFFD')) return '';
    const piece = text.slice(this.shown);
    this.shown = text.length;
    return piece;
  }

  /** what remains, incomplete characters included */
  end(ids: number[]): string {
    return this.decode(ids).slice(this.shown);
  }
}
