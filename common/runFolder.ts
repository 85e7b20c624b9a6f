import { z } from 'zod';
import { BackendInfo } from './backends';
import { SerializedError } from './errors';

/**
 * The files of a run folder, `<experiment>.runs/<RUN_ID>/`, as schemas. The engine writes them, the host
 * and the UI read them, and a folder describes itself (nanoGPT's checkpoints): whoever started the run,
 * the folder alone says what was trained, where, from which seed, how far it got and how it ended.
 *
 *   run.json                          RunJson, rewritten atomically on every change of status or progress
 *   metrics.jsonl                     one MetricsLine per line, appended as training goes
 *   events.out.tfevents.<time>.<host> the same scalars for TensorBoard, plus weight/gradient histograms
 *   checkpoints/step-<N>/             model.safetensors, optimizer.safetensors, checkpoint.json (CheckpointManifest)
 *   checkpoints/last.json, best.json  CheckpointPointer: which checkpoint is the newest, which has the best val loss
 */

export const RUN_FORMAT = 'transformer-workbench.run';
export const RUN_FORMAT_VERSION = 1;
export const CHECKPOINT_FORMAT = 'transformer-workbench.checkpoint';
export const CHECKPOINT_FORMAT_VERSION = 1;

/** Run ids become folder names, so they keep to a portable alphabet (the protocol's JobId rule). */
export const RunId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a run id is 1–128 characters of A–Z a–z 0–9 . _ - and starts with a letter or digit');
export type RunId = z.infer<typeof RunId>;

/** Sortable and readable: 20240501-123456-k3f9 (UTC time, then a random tail against collisions). */
export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${Math.random().toString(36).slice(2, 6).padEnd(4, '0')}`;
}

/**
 * running: a process is training it now (or was, and died: the host turns a 'running' run whose engine is
 * gone into 'interrupted'). paused: stopped on purpose with a checkpoint to resume from.
 */
export const RunStatus = z.enum(['running', 'paused', 'completed', 'failed', 'cancelled', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatus>;

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date-time, e.g. 2024-05-01T12:00:00.000Z');
const plainObject = z.custom<Record<string, unknown>>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  { message: 'expected an object (the configs of the experiment cells this run was started from)' },
);

/** Checkpoint folder names, `step-<N>` with N zero-padded to 8 digits so that they also sort by name. */
export const CheckpointName = z.string().regex(/^step-\d+$/, 'a checkpoint name is step-<N>, e.g. step-00000100');
export type CheckpointName = z.infer<typeof CheckpointName>;

export const RunJson = z.object({
  format: z.literal(RUN_FORMAT),
  version: z.literal(RUN_FORMAT_VERSION),
  id: RunId,
  name: z.string(),
  created: isoTime,
  /** when run.json was last written */
  updated: isoTime,
  status: RunStatus,
  /** a snapshot of what the run was started with (the experiment's cell configs); the engine reads it, the schema does not police it */
  config: plainObject,
  backend: BackendInfo,
  seed: z.number().int(),
  /** optimizer steps completed */
  step: z.number().int().min(0),
  tokensSeen: z.number().int().min(0),
  bestValLoss: z.number().nullable(),
  /** the newest checkpoint written, by folder name under checkpoints/ */
  lastCheckpoint: CheckpointName.nullable(),
  /** why a failed run failed */
  error: SerializedError.optional(),
}).strict();
export type RunJson = z.infer<typeof RunJson>;

// ---------------------------------------------------------------------------------------------------
// metrics.jsonl

/**
 * JSON has no NaN or Infinity, but a diverging loss is exactly what a researcher needs to see, so a
 * non-finite value is written as one of these strings rather than dropped or turned into null.
 */
export const NonFinite = z.enum(['NaN', 'Infinity', '-Infinity']);
export const ScalarValue = z.union([z.number(), NonFinite]);
export type ScalarValue = z.infer<typeof ScalarValue>;

export function encodeScalar(v: number): ScalarValue {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

export function decodeScalar(v: ScalarValue): number {
  return typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity;
}

/**
 * Scalar tags are TensorBoard tags as well: 'train/loss', 'train/lr', 'grad/global_norm', 'grad_norm/h.0',
 * 'update_ratio/h.0', 'val/loss', 'val/perplexity', 'val/mlm_accuracy', 'perf/tokens_per_s'.
 */
export const ScalarTag = z.string().regex(/^[A-Za-z0-9_.\-]+(\/[A-Za-z0-9_.\-]+)*$/, "a scalar tag is words of A–Z a–z 0–9 _ . - joined by '/', e.g. 'train/loss'");

/** One line of metrics.jsonl. Several lines may share a step (a training line, then an eval line). */
export const MetricsLine = z.object({
  step: z.number().int().min(0),
  /** seconds since the Unix epoch, as TensorBoard's wall_time */
  wallTime: z.number(),
  /** tokens trained on so far */
  tokens: z.number().int().min(0),
  scalars: z.record(ScalarTag, ScalarValue),
}).strict();
export type MetricsLine = z.infer<typeof MetricsLine>;

// ---------------------------------------------------------------------------------------------------
// checkpoints

/** JSON-serialisable state (RNG states, data positions): checked to be JSON, not further. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export const JsonValue: z.ZodType<JsonValue> = z.lazy(() => z.union([
  z.null(), z.boolean(), z.number(), z.string(), z.array(JsonValue), z.record(z.string(), JsonValue),
]));

export const TensorEntry = z.object({
  name: z.string().min(1),
  dtype: z.enum(['F32', 'I32', 'I8']).describe('I8: an int8 variant\'s codes, beside their F32 <name>_scale'),
  shape: z.array(z.number().int().min(0)),
}).strict();
export type TensorEntry = z.infer<typeof TensorEntry>;

export const CheckpointFile = z.object({
  /** file name inside the checkpoint folder */
  file: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  bytes: z.number().int().min(0),
  /** hex SHA-256 of the whole file: load refuses a file whose bytes changed after it was written */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** every tensor the file must hold, with its dtype and shape */
  tensors: z.array(TensorEntry),
}).strict();
export type CheckpointFile = z.infer<typeof CheckpointFile>;

/** checkpoints/step-<N>/checkpoint.json: what the folder holds and everything besides tensors needed to resume. */
export const CheckpointManifest = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(CHECKPOINT_FORMAT_VERSION),
  step: z.number().int().min(0),
  tokensSeen: z.number().int().min(0),
  created: isoTime,
  /** model.safetensors (parameters under their Hugging Face names) and, when saved, optimizer.safetensors */
  files: z.object({ model: CheckpointFile, optimizer: CheckpointFile.optional() }).strict(),
  /** optimizer scalars (AdamW's step count); its moments are in optimizer.safetensors as optimizer.m.<name>, optimizer.v.<name> */
  optimizer: z.object({ step: z.number().int().min(0) }).strict().nullable(),
  rng: JsonValue,
  dataPosition: JsonValue,
  valLoss: z.number().nullable(),
  bestValLoss: z.number().nullable(),
  extra: z.record(z.string(), JsonValue),
}).strict();
export type CheckpointManifest = z.infer<typeof CheckpointManifest>;

/** checkpoints/last.json and best.json: small pointer files, rewritten atomically. */
export const CheckpointPointer = z.object({
  checkpoint: CheckpointName,
  step: z.number().int().min(0),
  valLoss: z.number().nullable(),
}).strict();
export type CheckpointPointer = z.infer<typeof CheckpointPointer>;
