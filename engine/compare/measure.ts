/**
 * One comparison run (issue 12's comparison view): the base and each variant measured on the base's held-out
 * data (engine/training/baseData.ts), on one backend with one thread count, one model open beside the base at
 * a time. Figures per model: parameters, bytes on disk, latency, validation loss and perplexity, KL to the
 * base and top-1 agreement, per-layer weight error, per-head attention divergence. The files
 * (compare/comparison.json and .csv in the base run) are rewritten after every model, so rows appear as
 * variants finish; a model that cannot be opened or measured gets a row saying why and the run goes on.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BackendInfo } from '../../common/backends';
import {
  COMPARE_DIR, COMPARE_LIMITS, COMPARISON_CSV, COMPARISON_FORMAT, COMPARISON_JSON, comparisonCsv,
  type CompareRow, type Comparison,
} from '../../common/compare';
import { EngineError } from '../../common/errors';
import { writeFileAtomic, writeJsonAtomic } from '../../common/node/atomicWrite';
import { readRunJson, TOKENIZER_FILE } from '../../common/node/runFiles';
import type { Objective } from '../../common/pretrainConfig';
import { parseRunConfig } from '../../common/runConfig';
import type { AnyModel } from '../models/registry';
import { checkpointsDir, OPTIMIZER_FILE } from '../runs/checkpoint';
import { loadRunModel, type CheckpointChoice, type RunModel } from '../runs/loadRunModel';
import { prepareBaseData } from '../training/baseData';
import { evaluate } from '../training/evaluate';
import type { HostBatch } from '../training/pretrainData';
import { firstSequences, headDivergence } from './headDivergence';
import { rowLatencies } from './latency';
import { compareOnBatch } from './predictions';
import { isInt8, methodOf, sharedBaseCheckpoint, variantsOf } from './variants';
import { parameterCounts, weightError } from './weightError';
import { taskAccuracy as measureTaskAccuracy } from '../finetune/taskAccuracy';

/** The held-out batches are drawn with this seed, so that two comparisons of the same runs measure the same tokens. */
const COMPARE_SEED = 20240601;

export interface CompareOptions {
  baseRunDir: string;
  baseCheckpoint?: string;
  /** default: every run beside the base derived from it */
  variantRunDirs?: string[];
  evalBatches?: number;
  batchSize?: number;
  /** the backend the figures were computed on, recorded in the file */
  backend: BackendInfo | null;
  /** threads given to ONNX Runtime: the TF.js backend's own */
  threads: number;
  cacheDir?: string | null;
  signal?: AbortSignal;
  /** lets waiting messages through and throws JOB_CANCELLED when cancelled; default: a turn of the event loop and a look at `signal` */
  checkpoint?: () => Promise<void>;
  /** a model's row is in the files */
  onRow?: (row: CompareRow, done: number, total: number) => void;
  /** what is being done now, and how many models the run measures */
  onStage?: (message: string, planned: number) => void;
}

export interface CompareOutcome { comparison: Comparison; jsonFile: string; csvFile: string }

/** Where a base run's comparison files are. */
export function comparisonFiles(baseRunDir: string): { jsonFile: string; csvFile: string } {
  const dir = path.join(path.resolve(baseRunDir), COMPARE_DIR);
  return { jsonFile: path.join(dir, COMPARISON_JSON), csvFile: path.join(dir, COMPARISON_CSV) };
}

export async function measureComparison(o: CompareOptions): Promise<CompareOutcome> {
  const baseDir = path.resolve(o.baseRunDir);
  const yieldNow = o.checkpoint ?? (async () => {
    await new Promise((r) => setImmediate(r));
    if (o.signal?.aborted) throw new EngineError('JOB_CANCELLED', 'the comparison was cancelled; the rows measured so far are in its files');
  });
  await readRunJson(baseDir).catch((err: Error) => { throw new EngineError('INVALID_CONFIG', `${err.message}; give the folder of the run whose variants to compare`, ['baseRunDir']); });
  const variants = (o.variantRunDirs ?? await variantsOf(baseDir)).map((d) => path.resolve(d));
  const stage = (message: string) => o.onStage?.(message, 1 + variants.length);
  if (variants.length > COMPARE_LIMITS.maxVariants) throw new EngineError('INVALID_CONFIG', `${variants.length} variants given; one comparison measures at most ${COMPARE_LIMITS.maxVariants}`, ['variantRunDirs']);
  if (variants.includes(baseDir)) throw new EngineError('INVALID_CONFIG', `${baseDir}: is the base; list only its variants`, ['variantRunDirs']);
  const batchSize = o.batchSize ?? 8;
  const evalBatches = o.evalBatches ?? 4;
  const baseCheckpoint = (o.baseCheckpoint ?? await sharedBaseCheckpoint(variants).catch(() => null) ?? 'last') as CheckpointChoice;

  stage(`reading the base's held-out data (${evalBatches} batches of ${batchSize})`);
  const data = await prepareBaseData(baseDir, { batchSize, evalBatches, seed: COMPARE_SEED, tokenizerFile: path.join(baseDir, TOKENIZER_FILE), cacheDir: o.cacheDir, signal: o.signal });
  const files = comparisonFiles(baseDir);
  try {
    const validation = data.data.validation;
    if (!validation.length) throw new EngineError('INVALID_DATASET', `${data.rootRunDir}: its dataset has no held-out batches to measure on; give its dataset cell a validation split`);
    stage(`opening the base at ${baseCheckpoint}`);
    const base = await loadRunModel(baseDir, baseCheckpoint);
    try {
      const comparison: Comparison = {
        format: COMPARISON_FORMAT, version: 1, baseRunDir: baseDir, baseRunId: base.run.id, createdAt: new Date().toISOString(), complete: false,
        planned: 1 + variants.length, backend: o.backend,
        data: { objective: data.objective, batches: validation.length, batchSize, seqLen: data.seqLen, sourceRunDir: data.rootRunDir },
        limits: { ...COMPARE_LIMITS }, rows: [],
      };
      const anyInt8 = (await Promise.all(variants.map((d) => readRunJson(d).then((j) => isInt8(parseRunConfig(j.config, d))).catch(() => false)))).some(Boolean);
      const publish = async (row: CompareRow) => {
        comparison.rows.push(row);
        comparison.complete = comparison.rows.length === comparison.planned;
        await writeOut(comparison, files);
        o.onRow?.(row, comparison.rows.length, comparison.planned);
      };
      const ctx: MeasureContext = { base, validation, objective: data.objective, seqLen: data.seqLen, threads: o.threads, yieldNow, stage };
      stage(`measuring the base ${base.run.name}`);
      await publish(await measureRow(base, 'base', ctx, { onnxFloat: anyInt8 }));
      for (const dir of variants) {
        await yieldNow();
        stage(`measuring ${path.basename(dir)}`);
        await publish(await measureVariant(dir, ctx));
      }
      return { comparison, ...files };
    } finally {
      base.model.dispose();
    }
  } finally {
    data.data.close();
  }
}

async function writeOut(c: Comparison, files: { jsonFile: string; csvFile: string }): Promise<void> {
  await fs.promises.mkdir(path.dirname(files.jsonFile), { recursive: true });
  await writeJsonAtomic(files.jsonFile, c);
  await writeFileAtomic(files.csvFile, comparisonCsv(c));
}

interface MeasureContext {
  base: RunModel;
  validation: HostBatch[];
  objective: Objective;
  seqLen: number;
  threads: number;
  yieldNow: () => Promise<void>;
  stage: (message: string) => void;
}

/** A variant's row, or a row naming what went wrong when it cannot be opened or measured (a cancel still stops the run). */
async function measureVariant(dir: string, ctx: MeasureContext): Promise<CompareRow> {
  let rm: RunModel | null = null;
  try {
    rm = await loadRunModel(dir, 'last');
    return await measureRow(rm, 'variant', ctx, { onnxFloat: isInt8(rm.config) });
  } catch (err) {
    if (err instanceof EngineError && err.code === 'JOB_CANCELLED') throw err;
    const run = await readRunJson(dir).catch(() => null);
    return {
      runId: run?.id ?? path.basename(dir), runDir: dir, name: run?.name ?? path.basename(dir), role: 'variant', method: 'unknown', checkpoint: '', step: run?.step ?? 0,
      parameters: null, nonZeroParameters: null, bytesOnDisk: null, latency: [], valLoss: null, perplexity: null, taskAccuracy: null,
      klToBase: null, top1Agreement: null, weightError: null, heads: null, notes: [], error: (err as Error).message,
    };
  } finally {
    rm?.model.dispose();
  }
}

/** Every figure of one model; `onnxFloat`: also its float32 ONNX graph (the twin an int8 variant is timed against). */
async function measureRow(rm: RunModel, role: 'base' | 'variant', ctx: MeasureContext, opts: { onnxFloat: boolean }): Promise<CompareRow> {
  const { base, validation, yieldNow } = ctx;
  const model = rm.model;
  const notes: string[] = [...rm.notes];
  const isBase = role === 'base';
  const int8 = !isBase && isInt8(rm.config);
  const counts = parameterCounts(model.params);
  const bytesOnDisk = weightBytes(path.join(checkpointsDir(rm.runDir), rm.checkpoint.name));
  const fits = checkFits(base.model, model, ctx.seqLen);
  if (fits) notes.push(fits);

  let valLoss: number | null = null, perplexity: number | null = null, klToBase: number | null = null, top1Agreement: number | null = null;
  if (!fits) {
    const ev = await evaluate(model, validation, ctx.objective);
    valLoss = ev.loss;
    perplexity = ev.perplexity;
    if (isBase) {
      klToBase = 0;
      top1Agreement = 1;
    } else {
      let kl = 0, agree = 0, positions = 0;
      for (const h of validation) {
        await yieldNow();
        const s = await compareOnBatch(base.model, model, h, yieldNow);
        kl += s.kl; agree += s.agree; positions += s.positions;
      }
      klToBase = positions ? kl / positions : null;
      top1Agreement = positions ? agree / positions : null;
    }
  }

  let weightErr: CompareRow['weightError'] = null;
  let heads: CompareRow['heads'] = null;
  if (!isBase) {
    const we = weightError(base.model.params, model.params);
    if (we.ok) weightErr = we.layers;
    else if (int8) notes.push(we.reason);
    if (!fits) {
      await yieldNow();
      const hd = headDivergence(base.model, model, firstSequences(validation[0], COMPARE_LIMITS.attentionSequences));
      if (hd.ok) heads = hd.value;
      else notes.push(hd.reason);
    }
  }

  await yieldNow();
  const timed = await rowLatencies(model, validation[0], { base: isBase ? null : base.model, int8, onnxFloat: opts.onnxFloat, threads: ctx.threads }, yieldNow);
  notes.push(...timed.notes);

  let taskAccuracy: number | null = null;
  if (rm.config.task === 'finetune') {
    await yieldNow();
    const acc = await measureTaskAccuracy(rm.config, model, rm.tokenizer);
    if (acc.ok) {
      taskAccuracy = acc.accuracy;
      notes.push(`task accuracy on ${acc.examples} of its ${acc.testExamples} test examples (the set its evaluations classify)`);
    } else notes.push(acc.reason);
  }
  return {
    runId: rm.run.id, runDir: rm.runDir, name: rm.run.name, role, method: isBase ? 'base' : methodOf(rm.config),
    checkpoint: rm.checkpoint.name, step: rm.checkpoint.step,
    parameters: counts.parameters, nonZeroParameters: counts.nonZero, bytesOnDisk,
    latency: timed.latency, valLoss, perplexity, taskAccuracy, klToBase, top1Agreement, weightError: weightErr, heads, notes,
  };
}

/** Why a model cannot be run on the base's held-out batches, or null when it can. */
function checkFits(base: AnyModel, model: AnyModel, seqLen: number): string | null {
  if (model.config.vocabSize !== base.config.vocabSize) return `quality not measured: the vocabulary is ${model.config.vocabSize} tokens and the base's ${base.config.vocabSize}; a variant must keep its base's tokenizer`;
  if (model.config.arch !== base.config.arch) return `quality not measured: a ${model.config.arch} variant of a ${base.config.arch} base reads other inputs`;
  if (model.config.contextLength < seqLen) return `quality not measured: the context is ${model.config.contextLength} tokens, shorter than the base's held-out sequences of ${seqLen}`;
  return null;
}

/**
 * The bytes of a checkpoint's weights: its safetensors files but the optimizer's moments (model.safetensors, or
 * whatever a variant stores its weights as — int8 codes and scales), or null when the folder cannot be read.
 */
function weightBytes(dir: string): number | null {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors') && f !== OPTIMIZER_FILE).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  } catch {
    return null;
  }
}
