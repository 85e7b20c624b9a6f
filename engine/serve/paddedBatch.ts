/**
 * Several prompts decoded together, one token per sequence per step: the prompts are left-padded so that
 * they end in the same slot, the padding is hidden from attention and every token keeps its own position
 * (GPT.decode with rows), so each sequence gets the logits it would get alone. A sequence that finishes
 * leaves the batch (its rows of the cache go), new ones join it between steps (their prompts are read
 * apart, then their rows are padded to the batch's slots, or the batch to theirs), and slots that only
 * padding fills are cut away: the cache never holds more slots than the longest sequence in it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GPT } from '../models/gpt/model';
import { KvCache } from '../models/gpt/kvCache';

export class PaddedBatch {
  private readonly cache = new KvCache();
  /** padding slots at the left of each row */
  private pads: number[];
  /** real tokens of each row so far (the position of its next token) */
  private lengths: number[];

  constructor(private readonly model: GPT, private readonly prompts: readonly (readonly number[])[]) {
    if (!prompts.length || prompts.some((p) => p.length === 0)) throw new Error('PaddedBatch needs at least one prompt, each of at least one token');
    const longest = Math.max(...prompts.map((p) => p.length));
    this.pads = prompts.map((p) => longest - p.length);
    this.lengths = prompts.map((p) => p.length);
  }

  get size(): number {
    return this.lengths.length;
  }

  /** Reads the prompts: the next-token logits [V] of each row. */
  start(): Float32Array[] {
    const T = this.pads[0] + this.lengths[0];
    const ids = this.prompts.flatMap((p, b) => [...new Array<number>(this.pads[b]).fill(0), ...p]); // [B·T], padding with token 0
    const positions = Int32Array.from(ids, (_, i) => Math.max(0, (i % T) - this.pads[Math.floor(i / T)]));
    return this.run(ids, T, positions);
  }

  /** Feeds one token to each row (in row order): the logits [V] that follow, per row. */
  step(tokens: readonly number[]): Float32Array[] {
    if (tokens.length !== this.size) throw new Error(`PaddedBatch.step: ${tokens.length} tokens for ${this.size} rows`);
    const positions = Int32Array.from(this.lengths);
    this.lengths = this.lengths.map((n) => n + 1);
    return this.run([...tokens], 1, positions);
  }

  /** Keeps the listed rows (indices in the current order) and drops the others' keys and values. */
  keep(rows: readonly number[]): void {
    const idx = tf.tensor1d(Int32Array.from(rows), 'int32');
    this.cache.replace(this.cache.layers.map(({ k, v }) => ({ k: tf.gather(k, idx), v: tf.gather(v, idx) }))); // [B', H, n, hd]
    idx.dispose();
    this.pads = rows.map((r) => this.pads[r]);
    this.lengths = rows.map((r) => this.lengths[r]);
    this.trim();
  }

  /** Adds sequences at the end of the batch: the next-token logits [V] of each. */
  join(prompts: readonly (readonly number[])[]): Float32Array[] {
    const fresh = new PaddedBatch(this.model, prompts);
    const logits = fresh.start();
    const n = this.cache.length;
    const m = fresh.cache.length;
    const slots = Math.max(n, m);
    const padLeft = (x: tf.Tensor4D, z: number) => (z ? tf.pad(x, [[0, 0], [0, 0], [z, 0], [0, 0]]) : x); // [B, H, slots, hd]
    this.cache.replace(this.cache.layers.map((mine, i) => tf.tidy(() => {
      const theirs = fresh.cache.layers[i];
      return {
        k: tf.concat([padLeft(mine.k, slots - n), padLeft(theirs.k, slots - m)], 0) as tf.Tensor4D,
        v: tf.concat([padLeft(mine.v, slots - n), padLeft(theirs.v, slots - m)], 0) as tf.Tensor4D,
      };
    })));
    fresh.dispose();
    this.pads = [...this.pads.map((p) => p + slots - n), ...fresh.pads.map((p) => p + slots - m)];
    this.lengths = [...this.lengths, ...fresh.lengths];
    this.trim();
    return logits;
  }

  /** Cuts the slots that are padding in every row. */
  private trim(): void {
    const cut = Math.min(...this.pads);
    if (!cut) return;
    this.cache.replace(this.cache.layers.map(({ k, v }) => {
      const [B, H, n, hd] = k.shape;
      return { k: tf.slice(k, [0, 0, cut, 0], [B, H, n - cut, hd]), v: tf.slice(v, [0, 0, cut, 0], [B, H, n - cut, hd]) }; // [B, H, n - cut, hd]
    }));
    this.pads = this.pads.map((p) => p - cut);
  }

  private run(ids: number[], t: number, positions: Int32Array): Float32Array[] {
    const B = this.size;
    const n = this.cache.length + t;
    const keyMask = new Uint8Array(B * n);
    for (let b = 0; b < B; b++) keyMask.fill(1, b * n + this.pads[b], (b + 1) * n);
    const flat = tf.tidy(() => {
      const logits = this.model.decode(tf.tensor2d(ids, [B, t], 'int32'), this.cache, { positions, keyMask }); // [B, t, V]
      return tf.slice(logits, [0, t - 1, 0], [B, 1, -1]).dataSync() as Float32Array; // [B·V]
    });
    const V = flat.length / B;
    return Array.from({ length: B }, (_, b) => flat.subarray(b * V, (b + 1) * V));
  }

  dispose(): void {
    this.cache.dispose();
  }
}
