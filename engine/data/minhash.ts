/**
 * Near-duplicate detection: MinHash signatures over word shingles, locality-sensitive hashing in bands to
 * find candidates, and an exact Jaccard check of the (hashed) shingle sets to decide. Written here because
 * the npm options are either unmaintained (`minhash`, 2015) or a large general library whose hash
 * family draws on Math.random; ours is small, seeded and deterministic.
 */
import { Rng } from '../util/random';

/** murmur3's 32-bit finalizer: a cheap, well-mixing bijection on uint32. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;

/**
 * The sorted, distinct hashes of a text's k-word shingles (lowercased words; punctuation and spacing
 * ignored, so a reformatted copy is still a copy). A text shorter than k words is one shingle.
 */
export function shingleSet(text: string, k: number): Uint32Array {
  const words = text.toLowerCase().match(WORD) ?? [];
  if (!words.length) return new Uint32Array(0);
  const wh = words.map(fnv1a);
  const n = Math.max(1, wh.length - k + 1);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let h = 0x9747b28c;
    for (let j = i; j < Math.min(i + k, wh.length); j++) h = fmix32((Math.imul(h, 31) + wh[j]) >>> 0);
    out[i] = h;
  }
  out.sort();
  let m = 0;
  for (let i = 0; i < n; i++) if (i === 0 || out[i] !== out[i - 1]) out[m++] = out[i];
  return out.slice(0, m);
}

/** |A ∩ B| / |A ∪ B| of two sorted distinct sets. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  if (!a.length && !b.length) return 1;
  let i = 0, j = 0, inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { inter++; i++; j++; } else if (a[i] < b[j]) i++; else j++;
  }
  return inter / (a.length + b.length - inter);
}

/** Bands × rows: the most rows per band that still makes a pair at the threshold a candidate with probability ≥ 0.995. */
export function chooseBands(numPerm: number, threshold: number): { bands: number; rows: number } {
  let best = { bands: numPerm, rows: 1 };
  for (let rows = 1; rows <= numPerm; rows++) {
    const bands = Math.floor(numPerm / rows);
    if (1 - (1 - threshold ** rows) ** bands >= 0.995) best = { bands, rows };
  }
  return best;
}

export interface NearDuplicate {
  /** index (in the order added) of the document found to be a near-duplicate */
  index: number;
  /** index of the earlier kept document it resembles most */
  of: number;
  similarity: number;
}

/**
 * Adds documents in order; each one is compared with the earlier documents it was not found to
 * duplicate, so the first of a group is kept and later copies are reported.
 */
export class NearDuplicateIndex {
  private readonly seeds: Uint32Array;
  private readonly bands: number;
  private readonly rows: number;
  private readonly buckets: Map<number, number[]>[];
  private readonly shingles = new Map<number, Uint32Array>();
  private count = 0;

  constructor(readonly opts: { threshold: number; shingle: number; numPerm: number }) {
    // A fixed seed: which documents are duplicates must not depend on the split seed or the run.
    const rng = new Rng(0x5eed1e55);
    this.seeds = Uint32Array.from({ length: opts.numPerm }, () => Math.floor(rng.next() * 2 ** 32));
    ({ bands: this.bands, rows: this.rows } = chooseBands(opts.numPerm, opts.threshold));
    this.buckets = Array.from({ length: this.bands }, () => new Map());
  }

  signature(set: Uint32Array): Uint32Array {
    const sig = new Uint32Array(this.seeds.length).fill(0xffffffff);
    for (let p = 0; p < this.seeds.length; p++) {
      const seed = this.seeds[p];
      let min = 0xffffffff;
      for (let i = 0; i < set.length; i++) {
        const h = fmix32(set[i] ^ seed);
        if (h < min) min = h;
      }
      sig[p] = min;
    }
    return sig;
  }

  /** Returns the duplicate record if `text` is a near-duplicate of an earlier kept document, else keeps it. */
  add(text: string): NearDuplicate | null {
    const index = this.count++;
    const set = shingleSet(text, this.opts.shingle);
    if (!set.length) return null; // no words: nothing to compare, and the length filter deals with it
    const sig = this.signature(set);
    const keys: number[] = [];
    const seen = new Set<number>();
    let best: NearDuplicate | null = null;
    for (let b = 0; b < this.bands; b++) {
      let h = b + 1;
      for (let r = 0; r < this.rows; r++) h = fmix32((Math.imul(h, 31) + sig[b * this.rows + r]) >>> 0);
      keys.push(h);
      for (const c of this.buckets[b].get(h) ?? []) {
        if (seen.has(c)) continue;
        seen.add(c);
        const sim = jaccard(set, this.shingles.get(c)!);
        if (sim >= this.opts.threshold && (!best || sim > best.similarity)) best = { index, of: c, similarity: sim };
      }
    }
    if (best) return best;
    this.shingles.set(index, set);
    keys.forEach((h, b) => {
      const list = this.buckets[b].get(h);
      if (list) list.push(index); else this.buckets[b].set(h, [index]);
    });
    return null;
  }
}
