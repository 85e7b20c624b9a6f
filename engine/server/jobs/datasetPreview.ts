/**
 * `dataset.preview`: what the dataset cell shows before anyone trains — a few documents raw, cleaned and as
 * tokens, the split's statistics, what each cleaning step removed, and how long documents are in tokens.
 * It runs the very pipeline a run uses (loadTextDataset, then the tokenizer trained on the train split the
 * way prepareData does), but writes nothing: no cache, no tokenizer.json. It computes nothing on a device,
 * so a preview runs while a model trains (the engine's event loop is shared, so a large corpus slows the
 * run's steps for the seconds it takes).
 */
import type { DatasetPreview } from '../../../common/workbenchApi';
import { loadTextDataset, parseDatasetConfig } from '../../data/dataset';
import { readSource } from '../../data/sources';
import { trainTokenizerCooperatively, type Tokenizer } from '../../tokenizers';
import { tokenizerTrainingText } from '../../training/pretrainData';
import type { JobHandler } from '../job';

/** tokens shown per sample */
export const SAMPLE_TOKENS = 64;
/** characters of a sample's raw and cleaned text sent to the UI (a whole book would not help anyone) */
export const SAMPLE_CHARS = 4000;

/** Spread `n` picks evenly over `total` items (first and last included). */
export function spread(total: number, n: number): number[] {
  if (total <= n) return Array.from({ length: total }, (_, i) => i);
  if (n === 1) return [0];
  return Array.from({ length: n }, (_, i) => Math.round((i * (total - 1)) / (n - 1)));
}

/** Buckets of doubling width (…, 64, 128, …) from the shortest document's to the longest's. */
export function lengthHistogram(lengths: number[]): DatasetPreview['lengthHistogram'] {
  if (!lengths.length) return { bounds: [], counts: [] };
  const max = Math.max(...lengths);
  const min = Math.min(...lengths);
  let bound = 1;
  while (bound * 2 <= min) bound *= 2;
  const bounds: number[] = [];
  for (; ; bound *= 2) {
    bounds.push(bound);
    if (bound >= max) break;
  }
  const counts = bounds.map(() => 0);
  for (const len of lengths) counts[bounds.findIndex((b) => len <= b)]++;
  return { bounds, counts };
}

/** A token as a person reads it: byte-level BPE's symbols decoded (Ġthe → " the"), others as in the vocabulary. */
function tokenText(tok: Tokenizer, id: number): string {
  if (tok.kind === 'bpe') return tok.decode([id]);
  return tok.idToToken(id) ?? `[${id}]`;
}

export const datasetPreview: JobHandler<'dataset.preview'> = {
  usesDevice: false,
  async run(spec, ctx) {
    const config = parseDatasetConfig(spec.dataset);
    const text = await loadTextDataset(config, {
      baseDir: spec.baseDir, signal: ctx.signal,
      onProgress: (p) => ctx.progress(p.done, p.total, { message: p.phase }),
    });
    await ctx.checkpoint();
    ctx.progress(0, 1, { message: 'tokenizer' });
    // the tokenizer a run would train on this data (a char vocabulary sees every split)
    const tokenizer = await trainTokenizerCooperatively(spec.tokenizer as never, tokenizerTrainingText(spec.tokenizer as { kind: string }, text), { signal: ctx.signal });
    await ctx.checkpoint();

    // Token counts sentence by sentence, as the pipeline tokenizes; a document in both splits (split 'tail') adds up.
    const docTokens = new Map<string, number>();
    const cleaned = new Map<string, string>();
    const labels = new Map<string, string>();
    const tokensIn = async (docs: typeof text.train) => {
      let total = 0;
      for (let i = 0; i < docs.length; i++) {
        const d = docs[i];
        let n = 0;
        for (const s of d.sentences) n += tokenizer.encode(s).length;
        total += n;
        docTokens.set(d.id, (docTokens.get(d.id) ?? 0) + n);
        const sofar = cleaned.get(d.id) ?? '';
        if (sofar.length < SAMPLE_CHARS) cleaned.set(d.id, (sofar + d.sentences.join('')).slice(0, SAMPLE_CHARS));
        if (d.label !== undefined) labels.set(d.id, d.label);
        if (i % 200 === 199) await ctx.checkpoint();
      }
      return total;
    };
    const trainTokens = await tokensIn(text.train);
    const validationTokens = await tokensIn(text.validation);

    const ids = [...docTokens.keys()];
    const picked = spread(ids.length, spec.samples).map((i) => ids[i]);
    const raw = new Map<string, string>();
    const wanted = new Set(picked);
    for (const d of await readSource(config.source, spec.baseDir)) if (wanted.has(d.id)) raw.set(d.id, d.text.slice(0, SAMPLE_CHARS));

    const samples: DatasetPreview['samples'] = picked.map((id) => {
      const clean = cleaned.get(id) ?? '';
      const label = labels.get(id);
      return {
        id,
        ...(label !== undefined ? { label } : {}),
        raw: raw.get(id) ?? '',
        cleaned: clean,
        tokens: tokenizer.encode(clean).slice(0, SAMPLE_TOKENS).map((t) => tokenText(tokenizer, t)),
      };
    });
    return {
      samples,
      stats: {
        ...text.stats,
        train: { ...text.stats.train, tokens: trainTokens },
        validation: { ...text.stats.validation, tokens: validationTokens },
        tokenizer: `${tokenizer.kind}, ${tokenizer.vocabSize} tokens`,
      },
      cleaning: text.cleaning,
      lengthHistogram: lengthHistogram([...docTokens.values()]),
      vocabSize: tokenizer.vocabSize,
    };
  },
};
