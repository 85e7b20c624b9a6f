/**
 * Everything between a dataset cell and batches of token ids: load and clean the text, train (or, on
 * resume, load) the tokenizer (on the training split; a char one on all the text), tokenize through the on-disk cache, and build the
 * objective's batches — random training batches from a seeded Rng, and a fixed set of validation batches
 * so that every evaluation measures the same thing.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { DatasetConfig } from '../../common/datasetConfig';
import type { TokenizerConfig } from '../../common/tokenizerConfig';
import { EngineError } from '../../common/errors';
import type { Objective } from '../../common/pretrainConfig';
import { documentCount, documentSentences, loadTextDataset, loadTokenizedDataset, tokenStream, type DatasetProgress, type TokenizedDataset } from '../data/dataset';
import { defaultCacheDir } from '../data/cache';
import { STREAM_ABOVE_BYTES, encodeStreamed, streamedFileOf, streamedSentences, type StreamedDataset, type StreamedFile } from '../data/streamed';
import { refuse as refuseData } from '../data/sources';
import type { TokenWindow, TokenizedSplit } from '../data/types';
import type { Batch } from '../models/types';
import { loadTokenizer, saveTokenizer, trainTokenizerCooperatively, type Tokenizer } from '../tokenizers';
import { runCooperatively, type Steps } from '../util/cooperative';
import { Rng } from '../util/random';
import { causalLmBatch, maskSequence, mlmNspBatch, type MaskingOptions, type SpecialIds, type TokenizedDocument } from './objectives';

/** A batch as plain arrays; `toBatch` makes the tensors. */
export interface HostBatch {
  B: number;
  T: number;
  inputIds: Int32Array;
  labels: Int32Array;
  tokenTypeIds?: Int32Array;
  attentionMask?: Int32Array;
  nextSentenceLabels?: Int32Array;
}

export function toBatch(h: HostBatch): Batch {
  const m = (a: Int32Array) => tf.tensor2d(a, [h.B, h.T], 'int32');
  return {
    inputIds: m(h.inputIds),
    labels: m(h.labels),
    ...(h.tokenTypeIds ? { tokenTypeIds: m(h.tokenTypeIds) } : {}),
    ...(h.attentionMask ? { attentionMask: m(h.attentionMask) } : {}),
    ...(h.nextSentenceLabels ? { nextSentenceLabels: tf.tensor1d(h.nextSentenceLabels, 'int32') } : {}),
  };
}

export interface DataOptions {
  objective: Objective;
  batchSize: number;
  seqLen: number;
  maskProbability: number;
  evalBatches: number;
  seed: number;
  /** relative dataset paths resolve against this */
  baseDir?: string;
  /** the tokenized-dataset cache; null: none */
  cacheDir?: string | null;
  /** a tokenizer.json to load instead of training one (resume); written here after training otherwise */
  tokenizerFile: string;
  reuseTokenizer: boolean;
  onProgress?: (p: DatasetProgress | { phase: 'tokenizer'; done: number; total: number }) => void;
  /** what went wrong without stopping the run, e.g. a corrupt or unwritable dataset cache */
  onWarning?: (message: string) => void;
  /** what the run log should say about how the data was prepared (a streamed file: how, and what came of it) */
  onInfo?: (message: string) => void;
  /** a 'file' source larger than this is streamed; default STREAM_ABOVE_BYTES (64 MiB) */
  streamAboveBytes?: number;
  signal?: AbortSignal;
}

export interface PreparedData {
  tokenizer: Tokenizer;
  /** the tokenized dataset, when the source was read whole */
  dataset?: TokenizedDataset;
  /** the token files, when the source was a file large enough to stream */
  streamed?: StreamedDataset;
  /** closes what the data holds open (a streamed file's token files) */
  close(): void;
  /** a new training batch; all randomness from `rng` (its state is the data position) */
  trainBatch(rng: Rng): HostBatch;
  /** the same validation batches at every evaluation */
  validation: HostBatch[];
  /** as many fixed training batches, for the training-loss estimate at evaluations (nanoGPT's estimate_loss) */
  trainSample: HostBatch[];
}

function requireSpecials(tok: Tokenizer, objective: Objective): SpecialIds {
  const s = tok.specialIds;
  const missing = (['pad', 'unk', 'cls', 'sep', 'mask'] as const).filter((k) => s[k] === undefined);
  if (missing.length) {
    throw new EngineError('INVALID_CONFIG', `tokenizer: ${objective} needs the special tokens ${missing.map((k) => `[${k.toUpperCase()}]`).join(' ')}, which this ${tok.kind} tokenizer lacks; use a wordpiece or bpe tokenizer, or set tokenizer.specials to true`, ['tokenizer']);
  }
  return s as SpecialIds;
}

/** The split's documents as sentence lists, as steps (one document each: ../util/cooperative.ts). */
export function* documentsOf(split: TokenizedSplit): Steps<TokenizedDocument[]> {
  const docs: TokenizedDocument[] = [];
  for (let d = 0; d < documentCount(split); d++) {
    const sentences = documentSentences(split, d).filter((s) => s.length > 0).map((s) => Array.from(s));
    if (sentences.length) docs.push(sentences);
    yield;
  }
  return docs;
}

/** Masked LM without sentence pairs: [CLS] + a window of T-2 tokens of the stream + [SEP], masked. */
function mlmWindowBatch(stream: TokenWindow, B: number, T: number, o: MaskingOptions, rng: Rng): HostBatch {
  const inner = T - 2;
  if (stream.length < inner) throw new EngineError('INVALID_DATASET', `the split has ${stream.length} tokens, fewer than one sequence of ${inner}; use more text or a shorter seqLen`);
  const b: HostBatch = { B, T, inputIds: new Int32Array(B * T), labels: new Int32Array(B * T), tokenTypeIds: new Int32Array(B * T), attentionMask: new Int32Array(B * T).fill(1) };
  for (let r = 0; r < B; r++) {
    const at = rng.int(stream.length - inner + 1);
    const row = b.inputIds.subarray(r * T, (r + 1) * T);
    row[0] = o.specials.cls;
    row.set(stream.subarray(at, at + inner), 1);
    row[T - 1] = o.specials.sep;
    b.labels.set(maskSequence(row, o, rng), r * T);
  }
  return b;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EngineError('JOB_CANCELLED', 'data preparation was cancelled');
}

/**
 * The sentences a tokenizer learns from. A char vocabulary is every character of the whole text (nanoGPT's
 * prepare.py): one seen only in validation could not be encoded at all. BPE (all 256 bytes) and WordPiece
 * ([UNK]) encode any text, so they learn from the training split alone and validation stays unseen.
 */
export function* tokenizerTrainingText(cfg: { kind: string }, text: { train: readonly { sentences: readonly string[] }[]; validation: readonly { sentences: readonly string[] }[] }): Generator<string> {
  for (const docs of cfg.kind === 'char' ? [text.train, text.validation] : [text.train]) for (const d of docs) yield* d.sentences;
}

/**
 * A resumed run's tokenizer, from its tokenizer.json; null when that file is damaged (a crash, a truncation).
 * The run then trains it again from its recorded data and config — tokenizer training is deterministic, so
 * the vocabulary comes out the same — after setting the damaged file aside, and says so.
 */
function reloadTokenizer(file: string, onWarning?: (message: string) => void): Tokenizer | null {
  try {
    return loadTokenizer(file);
  } catch (err) {
    const aside = `${file}.damaged`;
    fs.renameSync(file, aside);
    onWarning?.(`${(err as Error).message.split('\n')[0]}; it is set aside as ${path.basename(aside)} and rebuilt from the run's data and tokenizer config (training a tokenizer is deterministic: the same vocabulary)`);
    return null;
  }
}

/** Characters of the training split a BPE or WordPiece tokenizer of a streamed file learns from: its memory grows with the distinct words of what it sees. */
export const TOKENIZER_SAMPLE_CHARS = 32 * 2 ** 20;

/**
 * A resumed run's tokenizer (reloaded), or one trained on `texts` and saved; cooperative, so the engine keeps
 * answering, and a cancel stops it.
 */
async function obtainTokenizer(tokenizerCfg: TokenizerConfig, o: DataOptions, texts: () => Promise<Iterable<string> | AsyncIterable<string>>): Promise<Tokenizer> {
  let tokenizer: Tokenizer | null = o.reuseTokenizer ? reloadTokenizer(o.tokenizerFile, o.onWarning) : null;
  if (!tokenizer) {
    const corpus = await texts();
    o.onProgress?.({ phase: 'tokenizer', done: 0, total: 1 });
    tokenizer = await trainTokenizerCooperatively(tokenizerCfg, corpus, { signal: o.signal });
    saveTokenizer(tokenizer, o.tokenizerFile);
    o.onProgress?.({ phase: 'tokenizer', done: 1, total: 1 });
  }
  checkAborted(o.signal);
  return tokenizer;
}

function requireValidation(tokens: number): void {
  if (tokens === 0) {
    throw new EngineError('INVALID_CONFIG', 'dataset.validationFraction: the validation split is empty, so the run could not be evaluated; set validationFraction above 0', ['dataset', 'validationFraction']);
  }
}

type Batches = Pick<PreparedData, 'trainBatch' | 'validation' | 'trainSample'>;

/** Training batches drawn by `make`, and the fixed evaluation batches from the same streams. */
function batchesFrom<S>(train: S, validation: S, make: (source: S) => (rng: Rng) => HostBatch, o: DataOptions): Batches {
  const fixed = (draw: (rng: Rng) => HostBatch, salt: number) => {
    const rng = new Rng((o.seed ^ salt) >>> 0);
    return Array.from({ length: o.evalBatches }, () => draw(rng));
  };
  return { trainBatch: make(train), validation: fixed(make(validation), 0x7a11), trainSample: fixed(make(train), 0x7a12) };
}

/** Causal-LM or MLM batches from two token streams, in memory or in files alike. */
function windowBatches(tokenizer: Tokenizer, train: TokenWindow, validation: TokenWindow, o: DataOptions): Batches {
  const T = o.seqLen;
  if (o.objective === 'causal-lm') return batchesFrom(train, validation, (s) => (rng) => causalLmBatch(s, o.batchSize, T, rng), o);
  const masking: MaskingOptions = { probability: o.maskProbability, vocabSize: tokenizer.vocabSize, specials: requireSpecials(tokenizer, o.objective) };
  return batchesFrom(train, validation, (s) => (rng) => mlmWindowBatch(s, o.batchSize, T, masking, rng), o);
}

/**
 * A 'file' source over DataOptions.streamAboveBytes (streamed.ts) is prepared as a stream, in memory that does not
 * grow with the file; anything else is read whole, which is faster for what fits.
 */
export async function prepareData(datasetCfg: DatasetConfig, tokenizerCfg: TokenizerConfig, o: DataOptions): Promise<PreparedData> {
  const big = await streamedFileOf(datasetCfg.source, o.baseDir, o.streamAboveBytes);
  return big ? prepareStreamed(big, datasetCfg, tokenizerCfg, o) : prepareInMemory(datasetCfg, tokenizerCfg, o);
}

async function prepareStreamed(f: StreamedFile, datasetCfg: DatasetConfig, tokenizerCfg: TokenizerConfig, o: DataOptions): Promise<PreparedData> {
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  if (o.objective === 'mlm-nsp') {
    throw new EngineError('INVALID_CONFIG', `${f.file}: is ${mib(f.size)} MiB and is read as a stream, which keeps no documents for next-sentence pairs; use objective 'mlm' or 'causal-lm', or cut the file into files under ${mib(o.streamAboveBytes ?? STREAM_ABOVE_BYTES)} MiB in a folder source`, ['pretrain', 'objective']);
  }
  const char = tokenizerCfg.kind === 'char';
  o.onInfo?.(`${f.file}: ${mib(f.size)} MiB, prepared as a stream (files over ${mib(o.streamAboveBytes ?? STREAM_ABOVE_BYTES)} MiB are): read in chunks, `
    + `${datasetCfg.split === 'tail' ? `the file's last ${datasetCfg.validationFraction}` : `about ${datasetCfg.validationFraction} of its documents, picked by hash,`} for validation, `
    + `${datasetCfg.cleaning.dedupeExact || datasetCfg.cleaning.dedupeNear.enabled ? 'duplicate removal off (its index would grow with the file), ' : ''}`
    + `the tokenizer ${char ? 'learning its characters from the whole file' : `learning from the first ${mib(TOKENIZER_SAMPLE_CHARS)} Mi characters of the training side`}, tokens written to disk and batches read from there`);
  const onBytes = (phase: 'tokenizer' | 'tokenize') => (bytes: number) => o.onProgress?.({ phase, done: bytes, total: f.size });
  const tokenizer = await obtainTokenizer(tokenizerCfg, o, async () => streamedSentences(f, datasetCfg, {
    sides: char ? 'all' : 'train', maxChars: char ? Infinity : TOKENIZER_SAMPLE_CHARS, signal: o.signal, onBytes: onBytes('tokenizer'),
  }));
  const cacheDir = o.cacheDir === null ? path.join(path.dirname(o.tokenizerFile), 'dataset-tokens') : path.resolve(o.cacheDir ?? defaultCacheDir());
  const streamed = await encodeStreamed(f, datasetCfg, tokenizer, { cacheDir, baseDir: o.baseDir, separator: tokenizer.specialIds.sep, signal: o.signal, onBytes: onBytes('tokenize') });
  try {
    const { train, validation, counts } = streamed;
    o.onInfo?.(`${f.file}: ${counts.documents} documents (${counts.dropped} dropped by the length filter), ${train.length} training and ${validation.length} validation tokens (${train.dtype}) in ${streamed.dir}${streamed.fromCache ? ', prepared by an earlier run' : ''}`);
    if (o.objective === 'causal-lm' && train.length < o.seqLen + 1) {
      refuseData(`${f.file}: the training split has ${train.length} tokens, fewer than one sequence of ${o.seqLen + 1} (sequence length ${o.seqLen} + 1 target); use more text or a shorter context length`);
    }
    requireValidation(validation.length);
    return { tokenizer, streamed, ...windowBatches(tokenizer, train, validation, o), close: streamed.close };
  } catch (err) {
    streamed.close();
    throw err;
  }
}

async function prepareInMemory(datasetCfg: DatasetConfig, tokenizerCfg: TokenizerConfig, o: DataOptions): Promise<PreparedData> {
  const tokenizer = await obtainTokenizer(tokenizerCfg, o, async () =>
    tokenizerTrainingText(tokenizerCfg, await loadTextDataset(datasetCfg, { baseDir: o.baseDir, onProgress: o.onProgress, signal: o.signal })));
  const T = o.seqLen;
  const dataset = await loadTokenizedDataset(datasetCfg, tokenizer, {
    baseDir: o.baseDir, cacheDir: o.cacheDir, onProgress: o.onProgress, signal: o.signal,
    ...(o.objective === 'causal-lm' ? { sequenceLength: T } : {}),
  });
  if (dataset.cacheWarning) o.onWarning?.(dataset.cacheWarning);
  checkAborted(o.signal);
  requireValidation(dataset.validation.tokens.length);
  const close = () => undefined;
  if (o.objective !== 'mlm-nsp') {
    // documents are joined with [SEP] where the tokenizer has one (a char tokenizer for one text needs none)
    const sep = tokenizer.specialIds.sep;
    return { tokenizer, dataset, ...windowBatches(tokenizer, tokenStream(dataset.train, sep), tokenStream(dataset.validation, sep), o), close };
  }
  const masking: MaskingOptions = { probability: o.maskProbability, vocabSize: tokenizer.vocabSize, specials: requireSpecials(tokenizer, o.objective) };
  const trainDocs = await runCooperatively(documentsOf(dataset.train), 'data preparation', o.signal);
  const valDocs = await runCooperatively(documentsOf(dataset.validation), 'data preparation', o.signal);
  for (const [split, docs] of [['training', trainDocs], ['validation', valDocs]] as const) {
    if (!docs.some((d) => d.length >= 2)) {
      throw new EngineError('INVALID_DATASET', `next-sentence prediction needs documents of at least two sentences, and the ${split} split has none; use objective 'mlm' or a corpus of multi-sentence documents`);
    }
    // the random "next" segment comes from another document: with one, every pair would be a true one
    if (docs.length < 2) {
      throw new EngineError('INVALID_DATASET', `next-sentence prediction draws its negative pairs from other documents, and the ${split} split has ${docs.length}; cut the text into more documents (source unit 'paragraph' or 'line'), give the split more data, or use objective 'mlm'`);
    }
  }
  return { tokenizer, dataset, ...batchesFrom(trainDocs, valDocs, (docs) => (rng: Rng): HostBatch => mlmNspBatch(docs, o.batchSize, T, masking, rng), o), close };
}
