/**
 * The keys and values a GPT has computed for the positions it has decoded (one [B, H, T, hd] pair per
 * layer), so that each new token costs one row per layer instead of the whole sequence again.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PastKeyValues } from '../attention';

export class KvCache {
  private past: PastKeyValues[] = [];

  /** the positions held */
  get length(): number {
    return this.past[0]?.k.shape[2] ?? 0;
  }

  get layers(): readonly PastKeyValues[] {
    return this.past;
  }

  /** Takes the grown keys and values of every layer, freeing the ones they extend. */
  replace(next: PastKeyValues[]): void {
    this.dispose();
    this.past = next;
  }

  dispose(): void {
    for (const { k, v } of this.past) tf.dispose([k, v]);
    this.past = [];
  }
}
