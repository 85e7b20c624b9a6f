/**
 * Post-training int8 quantization, in one pass (no training loop): a variant run folder beside its base
 * whose one checkpoint holds every int8 weight as codes and per-channel scales (./int8Checkpoint.ts, about a
 * quarter of the float32 bytes) and the rest in float32, with the activations' calibrated scales when they
 * are static. Its quality is measured on the base's held-out data beside the base's own, in TF.js and as
 * the int8 ONNX graph in onnxruntime-node, and recorded as the run's validation figures (metrics.jsonl,
 * the checkpoint's val loss), so the variant opens, evaluates, exports and compares like any run.
 *
 *   quantize  each 2-D weight not kept float: symmetric int8, one scale per output channel (./quantize.ts)
 *   calibrate static activations: ranges observed on N batches of the base's training data (./calibrate.ts);
 *             a QAT run's base brings the scales it trained with instead
 *   measure   base and variant on the same held-out batches
 *   write     checkpoint step-0 (valLoss: the variant's), metrics, run.json completed
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendRequest } from '../../common/backends';
import { DEFAULT_KEEP_FLOAT, KEEP_FLOAT_REASON, type Int8Config } from '../../common/compressConfig';
import { EngineError, toSerializedError } from '../../common/errors';
import { TOKENIZER_FILE } from '../../common/node/runFiles';
import type { CompressRunConfig } from '../../common/runConfig';
import type { EvalResult, RunEvent } from '../../common/runEvents';
import { selectBackend } from '../backends/select';
import { MODEL_FILE, checkpointsDir, writeCheckpoint } from '../runs/checkpoint';
import { loadRunModel, type CheckpointChoice } from '../runs/loadRunModel';
import { RunLog } from '../runs/metricsLog';
import { RunFolder } from '../runs/runFolder';
import { prepareBaseData } from '../training/baseData';
import { evaluate } from '../training/evaluate';
import { evalScalars } from '../training/stepStats';
import { copyBaseTokenizer } from '../training/trainer';
import type { SerializedTensor } from '../training/adamw';
import { Rng } from '../util/random';
import { calibrate, readScalesFile } from './calibrate';
import { throwIfCancelled } from './cancel';
import { fakeQuantActivationView } from './fakeQuant';
import { floatShare, int8Layout } from './int8Layout';
import { int8ExtraJson, type RunQuantization } from './int8Model';
import { dequantizedValues, quantizeInt8PerChannel, type Int8Quantized } from './quantize';
import { measureRun, onnxInt8Loss, type LmLoss } from './variantQuality';

export type Int8RunConfig = CompressRunConfig & { compress: Int8Config };

export interface Int8VariantOptions {
  backend?: BackendRequest;
  runId?: string;
  cacheDir?: string | null;
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
  /** the run the variant's quality is set beside (default its base): a QAT run's int8 variant is set beside the QAT run's own base */
  reference?: { runDir: string; checkpoint: CheckpointChoice };
}

export interface Int8VariantResult {
  runDir: string;
  runId: string;
  /** model weights on disk: the variant's checkpoint and its base's */
  bytes: number;
  baseBytes: number;
  quality: {
    /** the held-out batches both were measured on */
    heldOut: { batches: number; batchSize: number; seqLen: number; dataRun: string };
    /** the reference run the variant is set beside (its base unless told otherwise) */
    baseRun: { runDir: string; checkpoint: string };
    base: EvalResult;
    variant: EvalResult;
    /** the variant's int8 ONNX graph in onnxruntime-node, on the same batches (language-model loss) */
    onnxInt8: LmLoss;
  };
  int8Weights: number;
  kept: { name: string; reason: string }[];
  /** share of the scalars left in float32 (vectors and kept weights) */
  floatShare: number;
  activations: { mode: 'dynamic' | 'static'; calibrated: number };
}

export function isInt8Run(config: CompressRunConfig): config is Int8RunConfig {
  return config.compress.method === 'int8';
}

/** Writes the int8 variant of `config.base` as a new run under `runsDir`. */
export async function writeInt8Variant(config: Int8RunConfig, runsDir: string, name: string, opts: Int8VariantOptions = {}): Promise<Int8VariantResult> {
  const c = config.compress;
  const emit = opts.onEvent ?? (() => {});
  const backend = await selectBackend(opts.backend ?? 'auto');
  const run = await RunFolder.create(runsDir, { name, config, backend, seed: c.measure.seed, ...(opts.runId ? { id: opts.runId } : {}) });
  emit({ type: 'status', status: 'preparing', runId: run.id, runDir: run.dir });
  try {
    const result = await quantizeInto(run, config, opts, emit);
    await run.update({ status: 'completed' });
    emit({ type: 'status', status: 'completed', runId: run.id, runDir: run.dir });
    return result;
  } catch (err) {
    const cancelled = err instanceof EngineError && err.code === 'JOB_CANCELLED';
    await run.setStatus(cancelled ? 'cancelled' : 'failed', cancelled ? undefined : toSerializedError(err));
    throw err;
  } finally {
    await run.close();
  }
}

async function quantizeInto(run: RunFolder, config: Int8RunConfig, opts: Int8VariantOptions, emit: (e: RunEvent) => void): Promise<Int8VariantResult> {
  const c = config.compress;
  const { base } = config;
  const progress = (phase: string, done: number, total: number) => emit({ type: 'progress', phase, done, total });
  await copyBaseTokenizer(config, run.dir);
  const rm = await loadRunModel(base.runDir, base.checkpoint);
  const data = await prepareBaseData(base.runDir, {
    batchSize: c.measure.batchSize, evalBatches: c.measure.evalBatches, seed: c.measure.seed,
    tokenizerFile: path.join(run.dir, TOKENIZER_FILE), cacheDir: opts.cacheDir, onEvent: emit, signal: opts.signal,
  }).catch((err) => { rm.model.dispose(); throw err; });
  try {
    const model = rm.model;
    const layout = int8Layout(model, c.keepFloat);
    const defaults = c.keepFloat.join() === DEFAULT_KEEP_FLOAT.join();
    emit({ type: 'log', level: 'info', message: `int8: ${layout.axes.size} weights to int8 (per output channel); ${(100 * floatShare(model, layout)).toFixed(1)}% of the scalars stay float32${layout.kept.length ? `: ${layout.kept.map((k) => `${k.name} (${k.reason})`).join(', ')}` : ''}${defaults ? ` — the default keepFloat: ${KEEP_FLOAT_REASON}` : ''}` });

    const int8 = new Map<string, Int8Quantized>();
    for (const [wName, axis] of layout.axes) {
      throwIfCancelled(opts.signal, 'int8 quantization');
      const q = quantizeInt8PerChannel(model.params.get(wName), axis);
      int8.set(wName, q);
      // the model from here on is the variant: its weights as its checkpoint will hold them
      tf.tidy(() => model.params.assign(wName, tf.tensor(dequantizedValues(q), q.shape, 'float32')));
      progress('quantize', int8.size, layout.axes.size);
    }

    let scales: Record<string, number> | undefined;
    if (c.activations.mode === 'static') {
      scales = (await readScalesFile(base.runDir)) ?? undefined;
      if (scales) {
        emit({ type: 'log', level: 'info', message: `int8: static activation scales taken from the QAT run ${base.runDir}, as it trained with them` });
      } else {
        const rng = new Rng(c.measure.seed);
        const batches = Array.from({ length: c.activations.calibrationBatches }, () => data.data.trainBatch(rng));
        progress('calibrate', 0, batches.length);
        scales = await calibrate(model, batches, data.objective, layout.sites, c.activations, opts.signal);
        emit({ type: 'log', level: 'info', message: `int8: ${Object.keys(scales).length} activation ranges calibrated on ${batches.length} batches of the base's training data (${c.activations.observer}${c.activations.observer === 'percentile' ? ` ${c.activations.percentile}` : ''})` });
      }
    }
    const quantization: RunQuantization = { weights: int8, activations: c.activations, ...(scales ? { activationScales: scales } : {}) };
    model.activationView = fakeQuantActivationView(layout.sites, scales);

    progress('measure', 0, 3);
    const batches = data.data.validation;
    const variant = await evaluate(model, batches, data.objective);
    progress('measure', 1, 3);
    throwIfCancelled(opts.signal, 'the base\'s measurement');
    const reference = opts.reference ?? { runDir: base.runDir, checkpoint: base.checkpoint };
    const baseEval = await measureRun(reference.runDir, reference.checkpoint, batches, data.objective);
    progress('measure', 2, 3);
    const onnxInt8 = await onnxInt8Loss(model, quantization, batches, opts.signal);
    progress('measure', 3, 3);
    emit({ type: 'log', level: 'info', message: `int8: validation loss ${variant.loss.toFixed(4)} (base ${baseEval.loss.toFixed(4)}); int8 ONNX in onnxruntime-node: LM loss ${onnxInt8.lmLoss.toFixed(4)}, TF.js ${Math.log(variant.perplexity).toFixed(4)}` });

    throwIfCancelled(opts.signal, 'int8 quantization');
    const params = new Map<string, SerializedTensor>();
    for (const [pName, v] of model.params.variables) if (!int8.has(pName)) params.set(pName, { shape: v.shape.slice(), data: v.dataSync() as Float32Array });
    const saved = await writeCheckpoint(run.dir, {
      step: 0, tokensSeen: 0, params, optimizer: null, rng: null, dataPosition: null, valLoss: variant.loss,
      extra: { int8: int8ExtraJson({ kept: layout.kept, ...(scales ? { activationScales: scales } : {}) }) }, int8,
    });
    const log = await RunLog.open(run.dir);
    try {
      await log.log({ step: 0, tokens: 0, scalars: { ...evalScalars('val', variant), 'base/val_loss': baseEval.loss, 'base/val_perplexity': baseEval.perplexity, 'onnx_int8/lm_loss': onnxInt8.lmLoss } });
    } finally {
      await log.close();
    }
    await run.update({ lastCheckpoint: saved.name as never, bestValLoss: variant.loss });
    emit({ type: 'checkpoint', step: 0, name: saved.name, best: saved.isBest });
    return {
      runDir: run.dir, runId: run.id,
      bytes: await modelBytes(saved.dir), baseBytes: await modelBytes(path.join(checkpointsDir(config.base.runDir), config.base.checkpoint)),
      quality: { heldOut: { batches: batches.length, batchSize: c.measure.batchSize, seqLen: data.seqLen, dataRun: data.rootRunDir }, baseRun: { runDir: reference.runDir, checkpoint: reference.checkpoint }, base: baseEval, variant, onnxInt8 },
      int8Weights: int8.size, kept: layout.kept, floatShare: floatShare(model, layout),
      activations: { mode: c.activations.mode, calibrated: scales ? Object.keys(scales).length : 0 },
    };
  } finally {
    data.data.close();
    rm.model.dispose();
  }
}

async function modelBytes(checkpointDir: string): Promise<number> {
  return (await fsp.stat(path.join(checkpointDir, MODEL_FILE))).size;
}
