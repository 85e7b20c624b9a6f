/**
 * Labelled examples for sequence classification, token ids in hand: the shared split and class-balance
 * logic of the two sources (Brown genres: ./brownGenreTask.ts; a user's JSON Lines file: ./jsonlTask.ts),
 * and the batches a BERT ([CLS] a [SEP] (b [SEP])) or a GPT (a b, read at its last real token) classifies.
 */
import type { ClassBalance } from '../../common/classificationReport';
import type { SpecialIds } from '../../common/tokenizerConfig';
import type { Rng } from '../util/random';

export interface LabelledExample {
  /** the text's token ids, already cut to fit the context with the framing tokens */
  a: number[];
  /** a text pair's second text */
  b?: number[];
  label: number;
  /** the document (brown-genre) or line (jsonl) it came from: the unit the split keeps on one side */
  unit: number;
}

export interface ClassificationSplit {
  labels: string[];
  train: LabelledExample[];
  test: LabelledExample[];
  balance: ClassBalance;
}

/** Examples of each label. */
export function labelCounts(examples: readonly LabelledExample[], labels: number): number[] {
  const counts = new Array<number>(labels).fill(0);
  for (const e of examples) counts[e.label] += 1;
  return counts;
}

export function classBalance(split: Omit<ClassificationSplit, 'balance'>, unit: ClassBalance['unit']): ClassBalance {
  const units = (xs: readonly LabelledExample[]) => new Set(xs.map((e) => e.unit)).size;
  return {
    labels: split.labels, unit,
    train: labelCounts(split.train, split.labels.length), test: labelCounts(split.test, split.labels.length),
    trainUnits: units(split.train), testUnits: units(split.test),
  };
}

/** The class balance as lines for a run log: one per label, examples and units on each side. */
export function describeBalance(b: ClassBalance): string {
  const w = Math.max(5, ...b.labels.map((l) => l.length));
  const rows = b.labels.map((l, i) => `  ${l.padEnd(w)} ${String(b.train[i]).padStart(7)} ${String(b.test[i]).padStart(7)}`);
  const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
  return [`class balance (examples; ${b.trainUnits} ${b.unit}s train, ${b.testUnits} test, none on both sides):`,
    `  ${'label'.padEnd(w)} ${'train'.padStart(7)} ${'test'.padStart(7)}`, ...rows,
    `  ${'total'.padEnd(w)} ${String(sum(b.train)).padStart(7)} ${String(sum(b.test)).padStart(7)}`].join('\n');
}

/** Fisher–Yates with the caller's seeded Rng: the same seed, the same order. */
export function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Units (documents, lines) held out for testing: `testShare` of them, rounded, at least one and never all,
 * drawn within each group so that every group with two units or more is on both sides.
 */
export function heldOutUnits(groups: ReadonlyMap<string | number, readonly number[]>, testShare: number, rng: Rng): Set<number> {
  const test = new Set<number>();
  for (const units of groups.values()) {
    if (units.length < 2) continue;
    const n = Math.min(units.length - 1, Math.max(1, Math.round(units.length * testShare)));
    for (const u of shuffled(units, rng).slice(0, n)) test.add(u);
  }
  return test;
}

/** `n` items evenly spaced over `xs` (all of them when n ≥ length), in order: a fixed subset that spans every part of it. */
export function evenlySpaced<T>(xs: readonly T[], n: number): T[] {
  if (n >= xs.length) return [...xs];
  return Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]);
}

export type Arch = 'gpt' | 'bert';

/** Framing tokens an example costs: BERT's [CLS] … [SEP] (and a pair's second [SEP]); a GPT reads the text as it is. */
export function framingTokens(arch: Arch, pair: boolean): number {
  return arch === 'bert' ? (pair ? 3 : 2) : 0;
}

/** Cuts a pair to `room` tokens, the longer text first (Hugging Face's 'longest_first'). */
export function truncatePair(a: number[], b: number[] | undefined, room: number): { a: number[]; b?: number[] } {
  if (!b) return { a: a.slice(0, room) };
  let la = a.length, lb = b.length;
  while (la + lb > room) { if (la >= lb) la--; else lb--; }
  return { a: a.slice(0, la), b: b.slice(0, lb) };
}

/** A batch as plain arrays (right-padded to its longest example): the classifier's inputs and labels. */
export interface ClassBatch {
  B: number;
  T: number;
  inputIds: Int32Array;
  tokenTypeIds: Int32Array;
  attentionMask: Int32Array;
  classLabels: Int32Array;
}

/** Packs examples into one batch; BERT needs [CLS] and [SEP] among the tokenizer's specials. */
export function packBatch(examples: readonly LabelledExample[], arch: Arch, specials: SpecialIds): ClassBatch {
  const seqs = examples.map((e) => frame(e, arch, specials));
  const B = examples.length;
  const T = Math.max(1, ...seqs.map((s) => s.ids.length));
  const inputIds = new Int32Array(B * T).fill(specials.pad ?? 0);
  const tokenTypeIds = new Int32Array(B * T);
  const attentionMask = new Int32Array(B * T);
  seqs.forEach((s, i) => {
    inputIds.set(s.ids, i * T);
    tokenTypeIds.set(s.types, i * T);
    attentionMask.fill(1, i * T, i * T + s.ids.length);
  });
  return { B, T, inputIds, tokenTypeIds, attentionMask, classLabels: Int32Array.from(examples, (e) => e.label) };
}

function frame(e: LabelledExample, arch: Arch, sp: SpecialIds): { ids: number[]; types: number[] } {
  if (arch === 'gpt') {
    const ids = [...e.a, ...(e.b ?? [])];
    return { ids, types: new Array<number>(ids.length).fill(0) };
  }
  if (sp.cls === undefined || sp.sep === undefined) throw new Error('a BERT classifier needs [CLS] and [SEP] in its tokenizer; this run\'s tokenizer has neither');
  const first = [sp.cls, ...e.a, sp.sep];
  const second = e.b ? [...e.b, sp.sep] : [];
  return { ids: [...first, ...second], types: [...first.map(() => 0), ...second.map(() => 1)] };
}
