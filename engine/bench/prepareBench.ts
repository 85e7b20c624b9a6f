/**
 * Preparing a large text file for pretraining, measured: a file of SIZE MiB (default 1024) is generated in the
 * system's temporary folder from tinyshakespeare (each copy headed by its number), prepared as a run prepares it
 * (prepareData, streamed whatever the size; char tokenizer, causal LM, split 'tail'), then 100 training batches are drawn from it, and
 * a second preparation is cancelled halfway through its first read. Prints one JSON line: the peak resident memory of
 * this process while preparing (Linux's VmHWM, reset after the file is written) against PEAK_BOUND_MIB, and how
 * long the cancel took to stop the read; exits 1 when either bound is broken. Everything it wrote is deleted.
 *
 *   npm run bench:prepare [-- --mib SIZE]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatasetConfig } from '../../common/datasetConfig';
import type { EngineError } from '../../common/errors';
import { processMemory, resetPeakMemory, toMiB } from '../../common/node/processMemory';
import { TokenizerConfig } from '../../common/tokenizerConfig';
import { prepareData, type DataOptions } from '../training/pretrainData';
import { Rng } from '../util/random';

/** The stated bound on peak resident memory while a file of any size is prepared (a Node process with TF.js loaded sits at ~150 MiB). */
export const PEAK_BOUND_MIB = 400;
/** A cancel must stop a read within this long. */
const CANCEL_BOUND_MS = 1000;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const sizeMiB = Number(arg('--mib') ?? 1024);
if (!(sizeMiB > 0)) throw new Error(`--mib ${arg('--mib')}: give the file's size in MiB, e.g. --mib 1024`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-prepare-bench-'));
try {
  const file = path.join(tmp, 'corpus.txt');
  const seed = fs.readFileSync(path.resolve(root, '../shared/data/tinyshakespeare.txt'), 'utf8');
  const fd = fs.openSync(file, 'w');
  for (let copy = 0, written = 0; written < sizeMiB * 2 ** 20; copy++) written += fs.writeSync(fd, `=== copy ${copy} ===\n${seed}\n`);
  fs.closeSync(fd);
  const bytes = fs.statSync(file).size;

  const dataset = DatasetConfig.parse({ source: { kind: 'file', path: file, unit: 'file' }, split: 'tail', validationFraction: 0.1, cleaning: { stripHtml: false, normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } });
  const tokenizer = TokenizerConfig.parse({ kind: 'char' });
  const options = (name: string, extra: Partial<DataOptions> = {}): DataOptions => ({
    objective: 'causal-lm', batchSize: 64, seqLen: 256, maskProbability: 0.15, evalBatches: 4, seed: 1,
    cacheDir: path.join(tmp, `${name}-cache`), tokenizerFile: path.join(tmp, `${name}-tokenizer.json`), reuseTokenizer: false,
    streamAboveBytes: 0, // smaller sizes stream too, so that sizes can be compared
    ...extra,
  });

  resetPeakMemory(process.pid);
  const startMiB = toMiB(processMemory(process.pid).rssBytes);
  const t0 = performance.now();
  const data = await prepareData(dataset, tokenizer, options('run'));
  const prepareSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const rng = new Rng(1);
  for (let i = 0; i < 100; i++) data.trainBatch(rng);
  const batchMs = (performance.now() - t1) / 100;
  const peakMiB = toMiB(processMemory(process.pid).peakBytes);
  const { train, validation } = data.streamed!;
  data.close();

  // the second preparation is cancelled once its first pass (the tokenizer's) has read half the file
  const controller = new AbortController();
  let abortedAt = 0;
  const cancelled = await prepareData(dataset, tokenizer, options('cancelled', {
    signal: controller.signal,
    onProgress: (p) => { if (p.phase === 'tokenizer' && p.done >= bytes / 2 && !abortedAt) { abortedAt = performance.now(); controller.abort(); } },
  })).then(() => 'finished', (e: EngineError) => e.code);
  const cancelMs = performance.now() - abortedAt;

  const result = {
    fileMiB: Math.round(toMiB(bytes)), prepareSeconds: Math.round(prepareSeconds), trainTokens: train.length, validationTokens: validation.length, tokenBytes: train.dtype,
    startRssMiB: Math.round(startMiB), peakRssMiB: Math.round(peakMiB), peakBoundMiB: PEAK_BOUND_MIB, msPerBatch: Number(batchMs.toFixed(2)),
    cancel: cancelled, cancelMs: Math.round(cancelMs), cancelBoundMs: CANCEL_BOUND_MS,
  };
  console.log(JSON.stringify(result));
  if (peakMiB > PEAK_BOUND_MIB || cancelled !== 'JOB_CANCELLED' || cancelMs > CANCEL_BOUND_MS) process.exitCode = 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
