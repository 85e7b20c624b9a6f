/**
 * The pretraining objectives of the seed article, as batch builders over token ids held in JS:
 * causal LM on a token stream (nanoGPT's random windows), and BERT's masked LM (15% of tokens chosen;
 * of those 80% → [MASK], 10% → a random token, 10% kept) with next-sentence prediction (50% true next
 * segment), sequences packed to a fixed length as [CLS] A [SEP] B [SEP] with padding.
 * Every random choice comes from the caller's seeded Rng, so a batch repeats exactly for a seed and
 * data position. Labels use -100 where there is nothing to predict.
 */
import type { TokenWindow } from '../data/types';
import type { Rng } from '../util/random';

export const IGNORE = -100;

export interface SpecialIds {
  pad: number;
  unk: number;
  cls: number;
  sep: number;
  mask: number;
}

export interface CausalLmBatch {
  B: number;
  T: number;
  inputIds: Int32Array; // [B·T]
  labels: Int32Array; // [B·T], the next token
}

/** B windows of T+1 tokens at random offsets: inputs are the first T, labels the last T. */
export function causalLmBatch(stream: TokenWindow, B: number, T: number, rng: Rng): CausalLmBatch {
  if (stream.length < T + 1) throw new Error(`the token stream has ${stream.length} tokens, fewer than one sequence of ${T + 1}; use more text or a shorter seqLen`);
  const inputIds = new Int32Array(B * T);
  const labels = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const at = rng.int(stream.length - T);
    const window = stream.subarray(at, at + T + 1); // one read where the stream is a file
    inputIds.set(window.subarray(0, T), b * T);
    labels.set(window.subarray(1), b * T);
  }
  return { B, T, inputIds, labels };
}

/** A document as its sentences, each a list of token ids (no special tokens). */
export type TokenizedDocument = number[][];

export interface NspPair {
  a: number[];
  b: number[];
  /** BERT's label: 0 when B is A's true continuation, 1 when B comes from another document */
  isRandomNext: 0 | 1;
}

/**
 * One sentence pair in the manner of BERT's create_pretraining_data: segment A is one or more leading
 * sentences of a span of the document starting at a random sentence; B is the rest of that span (label 0)
 * or, half of the time, sentences from a random other document (label 1). Both are cut to fit `maxTokens`.
 */
export function nspPair(docs: TokenizedDocument[], rng: Rng, maxTokens: number): NspPair {
  const di = pickDocument(docs, rng, 2);
  const doc = docs[di];
  const target = maxTokens;
  // a span of consecutive sentences, from a random start, long enough to fill the sequence
  const start = rng.int(doc.length - 1);
  let end = start;
  let length = 0;
  while (end < doc.length && (length < target || end - start < 2)) length += doc[++end - 1].length;
  const span = doc.slice(start, end); // ≥ 2 sentences
  const aCount = 1 + rng.int(span.length - 1); // A keeps at least one sentence, leaves at least one for B
  const a = span.slice(0, aCount).flat();
  let b: number[];
  let isRandomNext: 0 | 1;
  if (docs.length > 1 && rng.next() < 0.5) {
    isRandomNext = 1;
    let other = rng.int(docs.length - 1);
    if (other >= di) other += 1; // any document but this one
    const od = docs[other];
    const from = rng.int(od.length);
    b = [];
    for (let s = from; s < od.length && b.length < target; s++) b.push(...od[s]);
  } else {
    isRandomNext = 0;
    b = span.slice(aCount).flat();
  }
  truncatePair(a, b, maxTokens, rng);
  return { a, b, isRandomNext };
}

/** A document with at least `minSentences`, chosen uniformly among those. */
function pickDocument(docs: TokenizedDocument[], rng: Rng, minSentences: number): number {
  for (let tries = 0; tries < 1000; tries++) {
    const i = rng.int(docs.length);
    if (docs[i].length >= minSentences) return i;
  }
  const i = docs.findIndex((d) => d.length >= minSentences);
  if (i < 0) throw new Error(`next-sentence prediction needs documents of at least ${minSentences} sentences; none has that many`);
  return i;
}

/** Trims the longer segment, from the front or the back at random (as BERT does), until both fit. */
function truncatePair(a: number[], b: number[], maxTokens: number, rng: Rng): void {
  while (a.length + b.length > maxTokens) {
    const longer = a.length > b.length ? a : b;
    if (rng.next() < 0.5) longer.shift();
    else longer.pop();
  }
}

export interface MlmBatch {
  B: number;
  T: number;
  inputIds: Int32Array; // [B·T]
  tokenTypeIds: Int32Array; // [B·T]
  attentionMask: Int32Array; // [B·T]
  labels: Int32Array; // [B·T], the original token where chosen for prediction, else -100
  nextSentenceLabels?: Int32Array; // [B]
}

export interface MaskingOptions {
  /** fraction of real (non-special) tokens chosen for prediction */
  probability: number;
  vocabSize: number;
  specials: SpecialIds;
  /** ids never used as random replacements nor chosen (all specials by default) */
  reserved?: Set<number>;
}

/**
 * Masked LM in place over one packed sequence: chooses round(p · n) of the n real tokens (at least one),
 * replaces 80% of the chosen by [MASK], 10% by a random non-special token, keeps 10%; returns the labels.
 */
export function maskSequence(ids: Int32Array, o: MaskingOptions, rng: Rng): Int32Array {
  const reserved = o.reserved ?? new Set(Object.values(o.specials));
  const labels = new Int32Array(ids.length).fill(IGNORE);
  const candidates: number[] = [];
  for (let i = 0; i < ids.length; i++) if (!reserved.has(ids[i])) candidates.push(i);
  if (candidates.length === 0) return labels;
  const count = Math.max(1, Math.round(o.probability * candidates.length));
  // partial Fisher–Yates: the first `count` of a random permutation
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(candidates.length - i);
    [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
    const pos = candidates[i];
    labels[pos] = ids[pos];
    const r = rng.next();
    if (r < 0.8) ids[pos] = o.specials.mask;
    else if (r < 0.9) ids[pos] = randomToken(o.vocabSize, reserved, rng);
    // else: kept as it is, still predicted
  }
  return labels;
}

function randomToken(vocabSize: number, reserved: Set<number>, rng: Rng): number {
  for (;;) {
    const t = rng.int(vocabSize);
    if (!reserved.has(t)) return t;
  }
}

/** Packs [CLS] a [SEP] b [SEP] into row `row` of the batch, padding to T. */
function packPair(batch: MlmBatch, row: number, a: number[], b: number[], sp: SpecialIds): void {
  const T = batch.T;
  const at = row * T;
  const seq = [sp.cls, ...a, sp.sep, ...b, sp.sep];
  if (seq.length > T) throw new Error(`packed pair of ${seq.length} tokens exceeds seqLen ${T}`);
  for (let i = 0; i < T; i++) {
    const real = i < seq.length;
    batch.inputIds[at + i] = real ? seq[i] : sp.pad;
    batch.attentionMask[at + i] = real ? 1 : 0;
    batch.tokenTypeIds[at + i] = real && i > a.length + 1 ? 1 : 0;
  }
}

/** A batch of masked-LM + next-sentence-prediction examples from tokenized documents. */
export function mlmNspBatch(docs: TokenizedDocument[], B: number, T: number, o: MaskingOptions, rng: Rng): MlmBatch {
  if (T < 8) throw new Error(`seqLen ${T} is too short for [CLS] A [SEP] B [SEP]; use at least 8`);
  const batch: MlmBatch = {
    B, T,
    inputIds: new Int32Array(B * T), tokenTypeIds: new Int32Array(B * T), attentionMask: new Int32Array(B * T),
    labels: new Int32Array(B * T), nextSentenceLabels: new Int32Array(B),
  };
  for (let r = 0; r < B; r++) {
    const pair = nspPair(docs, rng, T - 3);
    packPair(batch, r, pair.a, pair.b, o.specials);
    batch.nextSentenceLabels![r] = pair.isRandomNext;
    batch.labels.set(maskSequence(batch.inputIds.subarray(r * T, (r + 1) * T), o, rng), r * T);
  }
  return batch;
}
