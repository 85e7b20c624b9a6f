/**
 * `workbench compress RUN_DIR --method int8|qat|distill|prune …`: a smaller or faster variant of a run's
 * checkpoint, as a run folder of its own beside the base (or under --out). The settings are
 * common/compressConfig.ts's, given whole as --config and/or by the shortcut flags below, which set one field
 * each; a flag of another method is refused naming it. int8 is written in one pass
 * (engine/compression/int8Variant.ts); the others train in the training loop with progress as `workbench
 * train`'s, and Ctrl+C stops them after the current step with a checkpoint (`workbench resume` continues).
 * A QAT run that completes is written as an int8 variant beside it. The summary line says where the variant
 * is, its model weights on disk against the base's (`bytes`, `base_bytes`), and base and variant measured
 * the same way on the base's held-out data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { COMPRESS_METHODS, type CompressConfig } from '../../common/compressConfig';
import { EngineError, toSerializedError } from '../../common/errors';
import { RUN_JSON } from '../../common/node/runFiles';
import type { CompressRunConfig } from '../../common/runConfig';
import type { EvalResult } from '../../common/runEvents';
import { selectBackend } from '../backends/select';
import { isInt8Run, writeInt8Variant, type Int8VariantResult } from '../compression/int8Variant';
import type { QatRunConfig } from '../compression/qatTask';
import { writeQatInt8Variant } from '../compression/qatVariant';
import { measureBeside } from '../compression/variantQuality';
import { checkpointsDir, MODEL_FILE } from '../runs/checkpoint';
import type { CheckpointChoice } from '../runs/loadRunModel';
import { resolveDerivedRun } from '../training/derivedRun';
import { Trainer, type RunSummary, type TrainerEvent } from '../training/trainer';
import { backendFlag, positiveInt, usage } from './args';
import { ProgressView } from './progress';
import { StopOnSignals } from './signals';

export const COMPRESS_USAGE = `  workbench compress RUN_DIR --method int8|qat|distill|prune [--checkpoint last|best|step-N] [--config JSON|@FILE] [--out RUNS_DIR] [--json]
      a compressed variant beside RUN_DIR; shortcuts: --activations --calibration-batches --observer --percentile --keep-float
      (int8, qat), --steps --batch-size --lr (qat, distill, prune), --student-layers --temperature --init, --prune --sparsity --head-share`;

type Method = CompressConfig['method'];

/** Each shortcut flag: the methods it applies to, the field it sets, and how its text becomes the value. */
const SHORTCUTS: Record<string, { methods: Method[]; field: string[]; value: (flag: string, v: string) => unknown }> = {
  activations: { methods: ['int8', 'qat'], field: ['activations', 'mode'], value: (_f, v) => v },
  'calibration-batches': { methods: ['int8', 'qat'], field: ['activations', 'calibrationBatches'], value: (f, v) => positiveInt(f, v) },
  observer: { methods: ['int8', 'qat'], field: ['activations', 'observer'], value: (_f, v) => v },
  percentile: { methods: ['int8', 'qat'], field: ['activations', 'percentile'], value: (f, v) => decimal(f, v) },
  steps: { methods: ['qat', 'distill', 'prune'], field: ['loop', 'steps'], value: (f, v) => positiveInt(f, v) },
  'batch-size': { methods: ['qat', 'distill', 'prune'], field: ['loop', 'batchSize'], value: (f, v) => positiveInt(f, v) },
  lr: { methods: ['qat', 'distill', 'prune'], field: ['loop', 'optimizer', 'lr'], value: (f, v) => decimal(f, v) },
  'student-layers': { methods: ['distill'], field: ['student', 'nLayers'], value: (f, v) => positiveInt(f, v) },
  temperature: { methods: ['distill'], field: ['temperature'], value: (f, v) => decimal(f, v) },
  init: { methods: ['distill'], field: ['init'], value: (_f, v) => v },
  prune: { methods: ['prune'], field: ['kind'], value: (_f, v) => v },
  sparsity: { methods: ['prune'], field: ['sparsity'], value: (f, v) => decimal(f, v) },
  'head-share': { methods: ['prune'], field: ['headShare'], value: (f, v) => decimal(f, v) },
};

/** The largest --config @FILE read. */
const MAX_CONFIG_BYTES = 1 << 20;

const orList = (xs: readonly string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}` : xs[0]);

function decimal(flag: string, v: string): number {
  const n = /^-?[0-9]*\.?[0-9]+(e-?[0-9]+)?$/i.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) usage(`${flag} must be a number, not '${v}'`);
  return n;
}

function configOf(given: string | undefined): Record<string, unknown> {
  if (given === undefined) return {};
  let text = given;
  if (given.startsWith('@')) {
    const file = given.slice(1);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (e) {
      return usage(`--config ${given}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path`);
    }
    if (!st.isFile()) usage(`--config ${given}: is not a regular file; give a JSON file`);
    if (st.size > MAX_CONFIG_BYTES) usage(`--config ${given}: is ${st.size} bytes, more than the ${MAX_CONFIG_BYTES} a settings file can be`);
    text = fs.readFileSync(file, 'utf8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return usage(`--config: is not valid JSON (${(e as Error).message}); give an object such as '{"activations": {"mode": "static"}}' or @FILE`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) usage('--config: must be a JSON object of the method\'s settings');
  return value as Record<string, unknown>;
}

function setField(target: Record<string, unknown>, field: string[], value: unknown): void {
  let o = target;
  for (const k of field.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[field[field.length - 1]] = value;
}

/** --config's object with the shortcut flags set over it; a method given twice differently, or a flag of another method, is refused. */
export function compressSettings(method: Method, configFlag: string | undefined, flags: Record<string, string | string[] | undefined>): Record<string, unknown> {
  const settings = configOf(configFlag);
  if (settings.method !== undefined && settings.method !== method) usage(`--config says method ${JSON.stringify(settings.method)} but --method is ${method}; give one`);
  settings.method = method;
  for (const [flag, s] of Object.entries(SHORTCUTS)) {
    const v = flags[flag];
    if (v === undefined) continue;
    if (!s.methods.includes(method)) usage(`--${flag} applies to --method ${orList(s.methods)}, not ${method}`);
    setField(settings, s.field, s.value(`--${flag}`, v as string));
  }
  if (flags['keep-float'] !== undefined) {
    if (method !== 'int8' && method !== 'qat') usage(`--keep-float applies to --method int8 or qat, not ${method}`);
    settings.keepFloat = flags['keep-float'];
  }
  const loop = settings.loop as { steps?: number; schedule?: { warmupSteps?: number } } | undefined;
  if (flags.steps !== undefined && loop?.schedule?.warmupSteps === undefined) setField(settings, ['loop', 'schedule', 'warmupSteps'], Math.floor(loop!.steps! / 10));
  return settings;
}

export interface CompressSummary {
  type: 'summary';
  status: 'completed' | 'failed' | 'cancelled';
  method: Method;
  variant_dir: string | null;
  run_id: string | null;
  bytes?: number;
  base_bytes?: number;
  base?: { run_dir: string; checkpoint: string; val_loss: number; perplexity: number };
  variant?: { val_loss: number; perplexity: number };
  /** an int8 variant's int8 ONNX graph in onnxruntime-node, on the same batches: language-model loss, beside TF.js's */
  onnx_int8?: { lm_loss: number; perplexity: number; tfjs_lm_loss: number };
  held_out?: { batches: number; batch_size?: number; seq_len?: number };
  kept_float?: { name: string; reason: string }[];
  /** a QAT run's own folder (the variant is its int8 form) and its training summary */
  qat_run_dir?: string;
  training?: RunSummary;
  error?: ReturnType<typeof toSerializedError>;
}

const figures = (e: EvalResult) => ({ val_loss: e.loss, perplexity: e.perplexity });

function int8Summary(method: Method, r: Int8VariantResult): CompressSummary {
  const q = r.quality;
  return {
    type: 'summary', status: 'completed', method, variant_dir: r.runDir, run_id: r.runId, bytes: r.bytes, base_bytes: r.baseBytes,
    base: { run_dir: q.baseRun.runDir, checkpoint: q.baseRun.checkpoint, ...figures(q.base) }, variant: figures(q.variant),
    onnx_int8: { lm_loss: q.onnxInt8.lmLoss, perplexity: q.onnxInt8.perplexity, tfjs_lm_loss: Math.log(q.variant.perplexity) },
    held_out: { batches: q.heldOut.batches, batch_size: q.heldOut.batchSize, seq_len: q.heldOut.seqLen }, kept_float: r.kept,
  };
}

const modelBytes = (runDir: string, checkpoint: string) => fs.statSync(path.join(checkpointsDir(runDir), checkpoint, MODEL_FILE)).size;

function printSummary(s: CompressSummary, json: boolean): void {
  if (json) { process.stdout.write(`${JSON.stringify(s)}\n`); return; }
  if (s.status !== 'completed') {
    process.stdout.write(`compress ${s.method} ${s.status}${s.error ? `: ${s.error.message}` : ''}${s.variant_dir ? `\nrun folder: ${s.variant_dir}` : ''}\n`);
    return;
  }
  const f = (x: number) => x.toFixed(4);
  const lines = [`${s.method} variant written to ${s.variant_dir}`];
  if (s.bytes !== undefined && s.base_bytes !== undefined) lines.push(`  weights on disk: ${s.bytes} bytes (base ${s.base_bytes}, ${(s.base_bytes / s.bytes).toFixed(2)}× smaller)`);
  if (s.base && s.variant) lines.push(`  validation loss ${f(s.variant.val_loss)} (perplexity ${s.variant.perplexity.toFixed(2)}); base ${f(s.base.val_loss)} (${s.base.perplexity.toFixed(2)}), change ${(s.variant.val_loss - s.base.val_loss >= 0 ? '+' : '')}${f(s.variant.val_loss - s.base.val_loss)} on ${s.held_out?.batches} held-out batches`);
  if (s.onnx_int8) lines.push(`  int8 ONNX in onnxruntime-node: LM loss ${f(s.onnx_int8.lm_loss)} (TF.js, fake-quantized: ${f(s.onnx_int8.tfjs_lm_loss)})`);
  if (s.kept_float?.length) lines.push(`  kept float32: ${s.kept_float.map((k) => k.name).join(', ')}`);
  if (s.qat_run_dir) lines.push(`  QAT run (float32 weights, its dashboard): ${s.qat_run_dir}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function compressCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: {
      method: { type: 'string' }, checkpoint: { type: 'string' }, config: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' },
      backend: { type: 'string' }, json: { type: 'boolean', default: false }, 'keep-float': { type: 'string', multiple: true },
      ...Object.fromEntries(Object.keys(SHORTCUTS).map((k) => [k, { type: 'string' as const }])),
    },
  });
  if (positionals.length !== 1) usage(`compress takes one run folder, not ${positionals.length}`);
  const method = values.method as Method | undefined;
  if (!method || !COMPRESS_METHODS.includes(method)) usage(`compress needs --method ${COMPRESS_METHODS.join('|')}${method ? `, not '${method}'` : ''}`);
  const baseDir = path.resolve(positionals[0]);
  if (!fs.existsSync(path.join(baseDir, RUN_JSON))) usage(`${positionals[0]}: not a run folder (it has no ${RUN_JSON})`);
  const settings = compressSettings(method, values.config, values as unknown as Record<string, string | string[] | undefined>);
  const runsDir = path.resolve(values.out ?? path.dirname(baseDir));
  const backend = backendFlag(values.backend);
  const json = values.json;
  const view = new ProgressView(process.stderr);
  const stop = new StopOnSignals();
  const onEvent = (e: TrainerEvent) => {
    if (e.type === 'status' && e.status === 'preparing') stop.runDir = e.runDir;
    if (!json) view.event(e);
    else if (e.type !== 'progress') process.stdout.write(`${JSON.stringify(e)}\n`);
  };
  const release = stop.install();
  const done = (s: CompressSummary, code: number) => { printSummary(s, json); return code; };
  try {
    await selectBackend(backend ?? 'auto');
    const config = await resolveDerivedRun({ task: 'compress', baseRunDir: baseDir, baseCheckpoint: (values.checkpoint ?? 'last') as CheckpointChoice, settings }) as CompressRunConfig;
    const name = values.name ?? `${method} of ${config.base.runId}`;
    const opts = { onEvent, signal: stop.signal, ...(backend ? { backend } : {}) };
    if (isInt8Run(config)) return done(int8Summary(method, await writeInt8Variant(config, runsDir, name, opts)), 0);

    const trainer = await Trainer.startDerived(config, runsDir, name, opts);
    stop.attach(trainer);
    const training = await trainer.run();
    if (training.status !== 'completed') {
      const code = training.status === 'failed' ? 1 : stop.received ? stop.exitCode : 0;
      return done({ type: 'summary', status: training.status === 'failed' ? 'failed' : 'cancelled', method, variant_dir: trainer.runDir, run_id: trainer.runId, training, ...(training.error ? { error: training.error } : {}) }, code);
    }
    if (config.compress.method === 'qat') {
      const r = await writeQatInt8Variant(trainer.runDir, config as QatRunConfig, runsDir, `int8 of ${name}`, opts);
      return done({ ...int8Summary(method, r), base_bytes: modelBytes(config.base.runDir, config.base.checkpoint), qat_run_dir: trainer.runDir, training }, 0);
    }
    const loop = (config.compress as { loop: { batchSize: number; evalBatches: number; seed: number } }).loop;
    const m = await measureBeside(config.base, trainer.runDir, loop, { signal: stop.signal });
    const lastCk = JSON.parse(fs.readFileSync(path.join(trainer.runDir, RUN_JSON), 'utf8')).lastCheckpoint as string;
    return done({
      type: 'summary', status: 'completed', method, variant_dir: trainer.runDir, run_id: trainer.runId,
      bytes: modelBytes(trainer.runDir, lastCk), base_bytes: modelBytes(config.base.runDir, config.base.checkpoint),
      base: { run_dir: config.base.runDir, checkpoint: config.base.checkpoint, ...figures(m.base) }, variant: figures(m.variant),
      held_out: { batches: m.batches, batch_size: loop.batchSize }, training,
    }, 0);
  } catch (err) {
    const error = toSerializedError(err);
    const cancelled = stop.received !== null && err instanceof EngineError && err.code === 'JOB_CANCELLED';
    if (!json && !cancelled) throw err;
    done({ type: 'summary', status: cancelled ? 'cancelled' : 'failed', method, variant_dir: stop.runDir, run_id: stop.runDir ? path.basename(stop.runDir) : null, error }, 1);
    if (json && !cancelled) process.stderr.write(`workbench: ${error.message}\n`);
    return cancelled ? stop.exitCode : 1;
  } finally {
    release();
  }
}
