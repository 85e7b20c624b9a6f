/**
 * Hugging Face's BpeTrainer, re-done in TypeScript because the Node bindings of `tokenizers` expose no
 * trainer options (vocabulary size, minimum frequency, special tokens, initial alphabet). Same algorithm,
 * same tie-breaks, so a vocabulary trained here is the one HF's trainer would give:
 * - ids: special tokens first, then the alphabet in code point order, then one per merge;
 * - each step merges the most frequent adjacent pair, ties going to the smallest (left id, right id);
 * - pair counts are updated incrementally from the words a merge touched (a lazy max-heap holds stale
 *   counts, re-checked when popped), so a step costs the occurrences it changes, not a pass over the corpus.
 * With a continuing-subword prefix ("##"), symbols after a word's first character carry it, and the
 * result is WordPiece's vocabulary (what HF's WordPieceTrainer does on top of this one).
 */
import { runToEnd, type Steps } from '../util/cooperative';

export interface BpeTrainOptions {
  vocabSize: number;
  minFrequency: number;
  /** taken first, in order (ids 0 …) */
  specialTokens: readonly string[];
  /** symbols in the vocabulary whether the corpus has them or not (byte-level: all 256 bytes) */
  initialAlphabet?: readonly string[];
  continuingSubwordPrefix?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface BpeTrainResult {
  /** token strings by id */
  vocab: string[];
  /** merges in rank order */
  merges: [string, string][];
}

// A pair of symbol ids packed in one number (ids < 2^21 by the schema's vocabSize cap), ordered as (a, b).
const SHIFT = 2 ** 21;
const pairKey = (a: number, b: number) => a * SHIFT + b;

interface Entry { key: number; count: number; pos: number[] }

/** Max-heap on count, then min on the pair (HF's `Merge` ordering). */
class MergeQueue {
  private h: Entry[] = [];
  get size(): number { return this.h.length; }
  private before(x: Entry, y: Entry): boolean { return x.count > y.count || (x.count === y.count && x.key < y.key); }
  push(e: Entry): void {
    const h = this.h;
    let i = h.push(e) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l], h[m])) m = l;
        if (r < h.length && this.before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

export function trainBpe(wordCounts: ReadonlyMap<string, number>, o: BpeTrainOptions): BpeTrainResult {
  return runToEnd(trainBpeSteps(wordCounts, o));
}

/** Units of work between two `yield`s of the passes over words and pairs: a few milliseconds each. */
const UNIT = 4096;

/** The trainer as steps (../util/cooperative.ts): it yields between merges and every UNIT words of its passes. */
export function* trainBpeSteps(wordCounts: ReadonlyMap<string, number>, o: BpeTrainOptions): Steps<BpeTrainResult> {
  let work = 0;
  const idToWord: string[] = [];
  const wordToId = new Map<string, number>();
  const add = (s: string) => {
    let id = wordToId.get(s);
    if (id === undefined) { id = idToWord.push(s) - 1; wordToId.set(s, id); }
    return id;
  };
  for (const s of o.specialTokens) add(s);

  // Alphabet: the corpus's characters and the initial alphabet, in code point order.
  const chars = new Set<string>(o.initialAlphabet ?? []);
  const entries = [...wordCounts];
  for (const [w] of entries) {
    for (const c of w) chars.add(c);
    if (++work % UNIT === 0) yield;
  }
  const byCodePoint = (a: string, b: string) => a.codePointAt(0)! - b.codePointAt(0)!;
  for (const c of [...chars].sort(byCodePoint)) add(c);
  // Prefixed forms next; HF adds them in hash-map order, sorted here so that training is deterministic.
  const prefix = o.continuingSubwordPrefix;
  if (prefix) {
    const later = new Set<string>();
    for (const [w] of entries) {
      let first = true;
      for (const c of w) { if (!first) later.add(c); first = false; }
      if (++work % UNIT === 0) yield;
    }
    for (const c of [...later].sort(byCodePoint)) add(prefix + c);
  }

  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, n] of entries) {
    const sym: number[] = [];
    let first = true;
    for (const c of w) { sym.push(wordToId.get(first || !prefix ? c : prefix + c)!); first = false; }
    words.push(sym);
    counts.push(n);
    if (++work % UNIT === 0) yield;
  }

  // Initial pair counts and, per pair, the words holding it.
  const pairCounts = new Map<number, number>();
  let where = new Map<number, number[]>();
  const noteWord = (key: number, w: number) => {
    const list = where.get(key);
    if (!list) where.set(key, [w]);
    else if (list[list.length - 1] !== w) list.push(w);
  };
  for (let w = 0; w < words.length; w++) {
    const sym = words[w];
    for (let i = 0; i + 1 < sym.length; i++) {
      const key = pairKey(sym[i], sym[i + 1]);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + counts[w]);
      noteWord(key, w);
    }
    if (++work % UNIT === 0) yield;
  }
  const queue = new MergeQueue();
  const flush = function* () {
    for (const [key, pos] of where) {
      const count = pairCounts.get(key) ?? 0;
      if (count > 0) queue.push({ key, count, pos });
      if (++work % UNIT === 0) yield;
    }
    where = new Map();
  };
  yield* flush();

  const merges: [string, string][] = [];
  const target = o.vocabSize;
  const progressEvery = Math.max(1, Math.floor((target - idToWord.length) / 100));
  let sinceProgress = 0;
  while (idToWord.length < target && queue.size > 0) {
    const top = queue.pop()!;
    const actual = pairCounts.get(top.key) ?? 0;
    if (top.count !== actual) { top.count = actual; queue.push(top); continue; }
    if (top.count < 1 || top.count < o.minFrequency) break;

    const a = Math.floor(top.key / SHIFT), b = top.key % SHIFT;
    const partA = idToWord[a];
    let partB = idToWord[b];
    if (prefix && partB.startsWith(prefix)) partB = partB.slice(prefix.length);
    const merged = add(partA + partB);
    merges.push([idToWord[a], idToWord[b]]);

    // Replace the pair in every word that held it, left to right, recording how neighbouring pairs change.
    for (const w of top.pos) {
      const sym = words[w];
      const n = counts[w];
      let out: number[] | undefined;
      for (let i = 0; i < sym.length; i++) {
        if (sym[i] === a && i + 1 < sym.length && sym[i + 1] === b) {
          out ??= sym.slice(0, i);
          if (out.length > 0) {
            const prev = out[out.length - 1];
            const gone = pairKey(prev, a), made = pairKey(prev, merged);
            pairCounts.set(gone, pairCounts.get(gone)! - n);
            pairCounts.set(made, (pairCounts.get(made) ?? 0) + n);
            noteWord(made, w);
          }
          out.push(merged);
          if (i + 2 < sym.length) {
            const next = sym[i + 2];
            const gone = pairKey(b, next), made = pairKey(merged, next);
            pairCounts.set(gone, pairCounts.get(gone)! - n);
            pairCounts.set(made, (pairCounts.get(made) ?? 0) + n);
            noteWord(made, w);
          }
          i++;
        } else if (out) out.push(sym[i]);
      }
      if (out) words[w] = out;
    }
    yield* flush();
    yield;
    if (o.onProgress && ++sinceProgress >= progressEvery) { sinceProgress = 0; o.onProgress(idToWord.length, target); }
  }
  o.onProgress?.(idToWord.length, target);
  return { vocab: idToWord, merges };
}
