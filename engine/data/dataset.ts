/**
 * The dataset pipeline a trainer calls: read the source, clean, cut into sentences, split by document,
 * tokenize, cache. Two entry points:
 *   loadTextDataset      cleaned text documents per split (what a tokenizer is trained on)
 *   loadTokenizedDataset token arrays per split, from the cache when the same inputs were seen before
 * Refusals are EngineErrors: INVALID_CONFIG for a bad config, INVALID_DATASET naming the file and why.
 */
import path from 'node:path';
import { DatasetConfig, type CleaningReport, type DatasetStats, type DatasetConfigInput } from '../../common/datasetConfig';
import { EngineError } from '../../common/errors';
import { invalidConfig } from '../../common/zodIssues';
import { cacheKey, defaultCacheDir, readCacheEntry, writeCacheEntry } from './cache';
import { cleanDocumentsSteps } from './clean';
import { Pacer, mapSteps, runCooperatively } from '../util/cooperative';
import { cutAt, splitSentences } from './sentences';
import { describeSource, readSource, refuse, sourceIdentity } from './sources';
import { splitDocuments, splitTails } from './split';
import type { DatasetTokenizer, RawDocument, TextDocument, TokenizedSplit } from './types';

export type { DatasetTokenizer, TextDocument, TokenizedSplit } from './types';

/** Bump when reading, cleaning, sentence splitting or splitting changes its output: old cache entries then miss. */
export const PIPELINE_VERSION = 1;

export interface DatasetProgress { phase: 'read' | 'clean' | 'split' | 'tokenize' | 'cache'; done: number; total: number }

export interface LoadOptions {
  /** relative source paths resolve against this (the experiment's folder); default the working directory */
  baseDir?: string;
  onProgress?: (p: DatasetProgress) => void;
  signal?: AbortSignal;
}

export interface TokenizedLoadOptions extends LoadOptions {
  /** where tokenized datasets are kept; default ~/.cache/transformer-workbench/datasets; null: no cache */
  cacheDir?: string | null;
  /**
   * The model's context length. When given, a split that cannot fill one window of sequenceLength + 1
   * tokens (inputs plus shifted targets) is refused, on a cache hit too.
   */
  sequenceLength?: number;
}

export interface TextDataset {
  config: DatasetConfig;
  train: TextDocument[];
  validation: TextDocument[];
  stats: DatasetStats;
  cleaning: CleaningReport;
}

export interface TokenizedDataset {
  config: DatasetConfig;
  train: TokenizedSplit;
  validation: TokenizedSplit;
  stats: DatasetStats;
  cleaning: CleaningReport;
  fromCache: boolean;
  /** the cache file read or written; absent when caching is off or the write failed */
  cacheFile?: string;
  /** why the cache was not used or not written (corrupt entry, unwritable folder); loading still succeeded */
  cacheWarning?: string;
}

/** Validates a dataset config once; INVALID_CONFIG names each bad field under `dataset.`. */
export function parseDatasetConfig(input: unknown): DatasetConfig {
  const parsed = DatasetConfig.safeParse(input);
  if (!parsed.success) throw invalidConfig(parsed.error, ['dataset']);
  return parsed.data;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EngineError('JOB_CANCELLED', 'dataset loading was cancelled');
}

function toTextDocument(d: RawDocument): TextDocument {
  // The source's own sentence offsets survive only if no cleaning step edited the text (see RawDocument).
  const sentences = d.sentenceStarts ? cutAt(d.text, d.sentenceStarts) : splitSentences(d.text);
  return { id: d.id, ...(d.label !== undefined ? { label: d.label } : {}), sentences };
}

function countChars(docs: TextDocument[]): number {
  let n = 0;
  for (const d of docs) for (const s of d.sentences) n += s.length;
  return n;
}

function describeCleaning(report: CleaningReport): string {
  return report.steps.filter((s) => s.documentsRemoved > 0).map((s) => `${s.step} removed ${s.documentsRemoved}`).join(', ') || 'no step removed any';
}

export async function loadTextDataset(input: DatasetConfigInput | DatasetConfig, opts: LoadOptions = {}): Promise<TextDataset> {
  const t0 = performance.now();
  const config = parseDatasetConfig(input);
  const where = describeSource(config.source, opts.baseDir);
  opts.onProgress?.({ phase: 'read', done: 0, total: 1 });
  const raw = await readSource(config.source, opts.baseDir, opts.signal);
  checkAborted(opts.signal);
  if (!raw.length) refuse(`${where}: holds no text; add text or pick another source`, 'path');
  opts.onProgress?.({ phase: 'clean', done: 0, total: raw.length });
  const { docs, report } = await runCooperatively(cleanDocumentsSteps(raw, config.cleaning), 'cleaning the dataset', opts.signal);
  if (!docs.length) {
    refuse(`${where}: no document is left after cleaning (of ${raw.length} read: ${describeCleaning(report)}); check the file's content or lower cleaning.minChars`, 'path');
  }
  if (config.validationFraction > 0 && config.split === 'documents' && docs.length < 2) {
    const hint = config.source.kind === 'file' || config.source.kind === 'folder' ? "set source.unit to 'paragraph' or 'line', or " : 'add documents or ';
    refuse(`${where}: only 1 document is left after cleaning, and the train/validation split keeps documents whole; ${hint}set split to 'tail'`, 'path');
  }
  opts.onProgress?.({ phase: 'split', done: 0, total: docs.length });
  const textDocs = await runCooperatively(mapSteps(docs, toTextDocument), 'splitting the dataset into sentences', opts.signal);
  const { train, validation } = config.split === 'tail'
    ? splitTails(textDocs, config.validationFraction)
    : splitDocuments(textDocs, config.validationFraction, config.seed);
  const labels: DatasetStats['labels'] = {};
  for (const [side, list] of [['train', train], ['validation', validation]] as const) {
    for (const d of list) {
      if (d.label === undefined) continue;
      (labels[d.label] ??= { train: 0, validation: 0 })[side]++;
    }
  }
  const counts = (list: TextDocument[]) => ({ documents: list.length, sentences: list.reduce((s, d) => s + d.sentences.length, 0), chars: countChars(list) });
  const stats: DatasetStats = {
    source: where,
    documentsRead: raw.length,
    train: counts(train),
    validation: counts(validation),
    labels,
    buildMs: Math.round(performance.now() - t0),
  };
  return { config, train, validation, stats, cleaning: report };
}

/** A growable Int32Array: token counts are unknown until the end, and number[] of millions is slow and large. */
class IntBuilder {
  private a = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.a.length) { const b = new Int32Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.length++] = v;
  }
  done(): Int32Array { return this.a.slice(0, this.length); }
}

/** Tokenizes sentence by sentence (see TokenizedSplit), giving the event loop a turn every SLICE_MS so that cancellation and progress get through. */
export async function tokenizeDocuments(docs: TextDocument[], tokenizer: DatasetTokenizer, opts: LoadOptions & { progressBase?: number; progressTotal?: number } = {}): Promise<TokenizedSplit> {
  const tokens = new IntBuilder();
  const sentenceOffsets = new IntBuilder();
  const docSentenceOffsets = new IntBuilder();
  let sentences = 0;
  const pacer = new Pacer('dataset loading', opts.signal);
  sentenceOffsets.push(0);
  docSentenceOffsets.push(0);
  for (let d = 0; d < docs.length; d++) {
    for (const s of docs[d].sentences) {
      const ids = tokenizer.encode(s);
      for (const t of ids) {
        if (!Number.isInteger(t) || t < 0 || t > 0x7fffffff) {
          throw new EngineError('INVALID_CONFIG', `tokenizer ${tokenizer.id} returned ${t} for document ${docs[d].id}; token ids must be integers in [0, 2^31)`);
        }
        tokens.push(t);
      }
      sentenceOffsets.push(tokens.length);
      sentences++;
      // between sentences, not documents: one document may be a whole corpus (Brown as one running text)
      if (pacer.due()) {
        opts.onProgress?.({ phase: 'tokenize', done: (opts.progressBase ?? 0) + d, total: opts.progressTotal ?? docs.length });
        await pacer.turn();
      }
    }
    docSentenceOffsets.push(sentences);
  }
  return {
    tokens: tokens.done(),
    sentenceOffsets: sentenceOffsets.done(),
    docSentenceOffsets: docSentenceOffsets.done(),
    docIds: docs.map((d) => d.id),
    labels: docs.map((d) => d.label ?? null),
  };
}

interface CacheMeta {
  stats: DatasetStats;
  cleaning: CleaningReport;
  train: { docIds: string[]; labels: (string | null)[] };
  validation: { docIds: string[]; labels: (string | null)[] };
}

function checkLength(where: string, ds: { train: TokenizedSplit; validation: TokenizedSplit }, sequenceLength: number | undefined, validationFraction: number): void {
  if (sequenceLength === undefined) return;
  const need = sequenceLength + 1;
  if (ds.train.tokens.length < need) {
    refuse(`${where}: the training split has ${ds.train.tokens.length} tokens, fewer than one sequence of ${need} (sequence length ${sequenceLength} + 1 target); use more text or a shorter context length`, 'path');
  }
  if (validationFraction > 0 && ds.validation.tokens.length < need) {
    refuse(`${where}: the validation split has ${ds.validation.tokens.length} tokens, fewer than one sequence of ${need}; raise validationFraction or shorten the context length`, 'path');
  }
}

/**
 * Everything a trainer needs, keyed in the cache by (pipeline version, source identity: paths, sizes and
 * modification times or the corpus version; cleaning; split; tokenizer id). A cache entry that fails its
 * checks is deleted and rebuilt; a cache that cannot be written is reported in cacheWarning, not fatal.
 */
export async function loadTokenizedDataset(input: DatasetConfigInput | DatasetConfig, tokenizer: DatasetTokenizer, opts: TokenizedLoadOptions = {}): Promise<TokenizedDataset> {
  const config = parseDatasetConfig(input);
  const where = describeSource(config.source, opts.baseDir);
  const dir = opts.cacheDir === null ? null : path.resolve(opts.cacheDir ?? defaultCacheDir());
  let cacheWarning: string | undefined;
  let key: string | undefined;
  let keyParts: Record<string, unknown> | undefined;

  if (dir) {
    keyParts = {
      pipeline: PIPELINE_VERSION,
      source: await sourceIdentity(config.source, opts.baseDir),
      cleaning: config.cleaning,
      validationFraction: config.validationFraction,
      split: config.split,
      seed: config.seed,
      tokenizer: tokenizer.id,
    };
    key = cacheKey(keyParts);
    opts.onProgress?.({ phase: 'cache', done: 0, total: 1 });
    const hit = await readCacheEntry(dir, key);
    if (hit.status === 'hit') {
      const meta = hit.meta as CacheMeta;
      const a = hit.arrays;
      const ds = {
        train: { tokens: a.trainTokens, sentenceOffsets: a.trainSentenceOffsets, docSentenceOffsets: a.trainDocSentenceOffsets, ...meta.train },
        validation: { tokens: a.valTokens, sentenceOffsets: a.valSentenceOffsets, docSentenceOffsets: a.valDocSentenceOffsets, ...meta.validation },
      };
      if (consistent(ds.train) && consistent(ds.validation)) {
        checkLength(where, ds, opts.sequenceLength, config.validationFraction);
        return { config, ...ds, stats: meta.stats, cleaning: meta.cleaning, fromCache: true, cacheFile: hit.file };
      }
      cacheWarning = `cache entry ${hit.file} was inconsistent; rebuilt`;
    } else if (hit.status === 'corrupt') {
      cacheWarning = `cache entry ${hit.file} was corrupt (${hit.reason}); rebuilt`;
    }
  }

  const t0 = performance.now();
  const text = await loadTextDataset(config, opts);
  const total = text.train.length + text.validation.length;
  const train = await tokenizeDocuments(text.train, tokenizer, { ...opts, progressTotal: total });
  const validation = await tokenizeDocuments(text.validation, tokenizer, { ...opts, progressBase: text.train.length, progressTotal: total });
  const stats: DatasetStats = {
    ...text.stats,
    train: { ...text.stats.train, tokens: train.tokens.length },
    validation: { ...text.stats.validation, tokens: validation.tokens.length },
    tokenizer: tokenizer.id,
    buildMs: Math.round(text.stats.buildMs + performance.now() - t0),
  };
  checkLength(where, { train, validation }, opts.sequenceLength, config.validationFraction);

  let cacheFile: string | undefined;
  // A source edited while we read it would store new content under the old identity: skip the write then.
  if (dir && key && key !== cacheKey({ ...keyParts!, source: await sourceIdentity(config.source, opts.baseDir) })) {
    cacheWarning = `${where} changed while it was read; not cached`;
  } else if (dir && key) {
    opts.onProgress?.({ phase: 'cache', done: 0, total: 1 });
    const meta: CacheMeta = {
      stats,
      cleaning: text.cleaning,
      train: { docIds: train.docIds, labels: train.labels },
      validation: { docIds: validation.docIds, labels: validation.labels },
    };
    try {
      cacheFile = await writeCacheEntry(dir, key, meta, {
        trainTokens: train.tokens, trainSentenceOffsets: train.sentenceOffsets, trainDocSentenceOffsets: train.docSentenceOffsets,
        valTokens: validation.tokens, valSentenceOffsets: validation.sentenceOffsets, valDocSentenceOffsets: validation.docSentenceOffsets,
      });
    } catch (err) {
      cacheWarning = `could not write the dataset cache in ${dir} (${(err as Error).message}); the next run tokenizes again`;
    }
  }
  return { config, train, validation, stats, cleaning: text.cleaning, fromCache: false, ...(cacheFile ? { cacheFile } : {}), ...(cacheWarning ? { cacheWarning } : {}) };
}

/** Offsets that index inside their arrays: a last line of defence for entries whose hash matched but whose writer was wrong. */
function consistent(s: TokenizedSplit): boolean {
  const nDocs = s.docSentenceOffsets.length - 1;
  const nSent = s.sentenceOffsets.length - 1;
  return !!s.tokens && nDocs === s.docIds.length && nDocs === s.labels.length && nSent >= 0
    && s.docSentenceOffsets[nDocs] === nSent && s.sentenceOffsets[nSent] === s.tokens.length;
}

// ---------------------------------------------------------------------------------------------------------
// Views a trainer reads through; none copies except tokenStream.

export function documentCount(split: TokenizedSplit): number {
  return split.docSentenceOffsets.length - 1;
}

/** All tokens of document d, as a view. */
export function documentTokens(split: TokenizedSplit, d: number): Int32Array {
  const s0 = split.docSentenceOffsets[d], s1 = split.docSentenceOffsets[d + 1];
  return split.tokens.subarray(split.sentenceOffsets[s0], split.sentenceOffsets[s1]);
}

/** Document d as a list of sentence token views: what next-sentence-prediction pairs are drawn from. */
export function documentSentences(split: TokenizedSplit, d: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let s = split.docSentenceOffsets[d]; s < split.docSentenceOffsets[d + 1]; s++) {
    out.push(split.tokens.subarray(split.sentenceOffsets[s], split.sentenceOffsets[s + 1]));
  }
  return out;
}

/**
 * One causal-LM stream: documents in order, each followed by `separator` (e.g. GPT-2's <|endoftext|>)
 * when given, so the model learns where a text ends instead of reading one text into the next.
 */
export function tokenStream(split: TokenizedSplit, separator?: number): Int32Array {
  if (separator === undefined) return split.tokens;
  const n = documentCount(split);
  const out = new Int32Array(split.tokens.length + n);
  let o = 0;
  for (let d = 0; d < n; d++) {
    const t = documentTokens(split, d);
    out.set(t, o);
    o += t.length;
    out[o++] = separator;
  }
  return out;
}
