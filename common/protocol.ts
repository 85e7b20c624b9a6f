/**
 * The engine protocol: the one definition of what the host may say to the engine (commands) and what the
 * engine says back (events). Both sides import this module; every message is validated here on arrival.
 *
 * Rules of the conversation:
 * - Every command carries a request `id` and gets exactly one answer carrying that id: `onReply` (its
 *   typed result) or `onError`. A message that cannot be read at all gets `onError` with the id it
 *   carried if that id was readable, else `id: null`.
 * - A job accepted by `job.start` ends with exactly one of `onJobDone`, `onJobFailed`, `onJobCancelled`.
 *   `onJobStarted` comes first when the job got as far as running (it names the backend it runs on),
 *   and `onJobProgress` events come in between.
 * - `hello` is the handshake: a peer whose protocol major differs is refused with PROTOCOL_VERSION.
 *   Minors only add; a peer uses only what the lower minor of the two has.
 * - Objects are strict: a field this side does not know is an error, never silently dropped, so a typo
 *   in a request is reported instead of ignored.
 */
import { z } from 'zod';
import { BundleExportResult } from './bundle';
import { TorchExportResult } from './torchExport';
import { BackendInfo, BackendName, BackendRequest } from './backends';
import { MAX_ERROR_CHARS, SerializedError, type ErrorCode } from './errors';
import type { ModelConfigInput, ResolvedModelConfig } from './modelConfig';
import type { ModelStats } from './modelStats';
import { RunEvent, RunSummary } from './runEvents';
import { RunId } from './runFolder';
import { CheckpointChoice, FillMaskParams, FillMaskResult, SampleResult, SamplingParams } from './sampling';
import { DatasetPreview } from './workbenchApi';
import { formatIssues, issuePath } from './zodIssues';
import { InspectAttentionJob, InspectAttentionResult } from './inspect';
import { LoraTargetsJob, LoraTargetsResult } from './loraTargets';
import { CompareMeasureJob, CompareMeasureResult } from './compare';

/** major.minor; a different major is refused, a different minor is compatible. */
export const PROTOCOL_VERSION = '1.0';

/** A message longer than this (characters of its JSON text) is refused with BAD_MESSAGE. */
export const MAX_MESSAGE_CHARS = 4 * 1024 * 1024;
/** Deeper nesting than this is refused: no valid message comes near it, and it guards recursion. */
export const MAX_MESSAGE_DEPTH = 32;
/** Keys that could reach an object's prototype; no message has a reason to carry them. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

// ---------------------------------------------------------------------------------------------------
// Shared pieces

export const RequestId = z.string().min(1).max(128);
/** Job ids may end up in file names (run folders), so they are kept to a safe alphabet. */
export const JobId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a job id is 1–128 characters of A–Z a–z 0–9 . _ - and starts with a letter or digit');
export const ProtocolVersion = z.string().regex(/^\d{1,4}\.\d{1,4}$/, 'a protocol version is "major.minor", e.g. "1.0"');

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * A model config travels as a plain object; the protocol checks only that. The job validates it with
 * ModelConfig when it runs, so an impossible config is a failed job (INVALID_CONFIG naming the field),
 * not an unreadable message.
 */
const ModelConfigField = z.custom<ModelConfigInput>(isPlainObject, { message: 'expected a model config object' });

// ---------------------------------------------------------------------------------------------------
// Jobs: long-running work, started by `job.start`, reported by job events.

export const ModelDescribeJob = z.object({
  kind: z.literal('model.describe'),
  model: ModelConfigField,
}).strict();

export const ModelTrainStepsJob = z.object({
  kind: z.literal('model.trainSteps'),
  model: ModelConfigField,
  /** at most 100 000: the result lists every step's loss, and a message must stay under MAX_MESSAGE_CHARS */
  steps: z.number().int().min(1).max(100_000),
  batchSize: z.number().int().min(1).max(65_536),
  /** must not exceed the model's contextLength (checked when the job runs) */
  seqLen: z.number().int().min(1).max(1_048_576),
  /** seeds both the initial weights and the random token data */
  seed: z.number().int().min(0).max(0xffffffff),
  /** AdamW's; default 1e-3 */
  learningRate: z.number().positive().max(10).optional(),
  /** AdamW's decoupled weight decay on matrices; default 0.01 */
  weightDecay: z.number().min(0).max(1).optional(),
  /** clip the global gradient norm to this; default: no clipping */
  clipNorm: z.number().positive().optional(),
  /** default: the engine's current backend, or 'auto' when none is chosen yet */
  backend: BackendRequest.optional(),
}).strict();

/** The cells a pretraining run is made of; plain objects here, validated by the job with the experiment's schemas. */
const CellConfigField = z.custom<Record<string, unknown>>(isPlainObject, { message: 'expected a config object' });
const PathField = z.string().min(1).max(4096);

/** Pretrains a model from an experiment's dataset, model and pretrain cells into a new run folder under runsDir. */
export const PretrainStartJob = z.object({
  kind: z.literal('pretrain.start'),
  name: z.string().min(1).max(200),
  dataset: CellConfigField,
  tokenizer: CellConfigField,
  model: CellConfigField,
  pretrain: CellConfigField,
  /** where the run folder is created (NAME.runs/ beside the experiment file) */
  runsDir: PathField,
  /**
   * the run's id, its folder's name under runsDir (the host names the run, and the job, with it); refused
   * when that folder exists. Default: a fresh one.
   */
  runId: RunId.optional(),
  /** relative dataset paths resolve against this (the experiment file's folder) */
  baseDir: PathField,
  /** overrides the pretrain cell's backend and step count */
  backend: BackendRequest.optional(),
  steps: z.number().int().min(1).max(100_000_000).optional(),
}).strict();

/** Continues a run folder from its newest valid checkpoint. */
export const PretrainResumeJob = z.object({
  kind: z.literal('pretrain.resume'),
  runDir: PathField,
  backend: BackendRequest.optional(),
}).strict();

/**
 * Starts a run from another run's checkpoint — fine-tuning (`settings`: common/finetuneConfig.ts) or compression
 * (common/compressConfig.ts) — into a new run folder under runsDir; the engine reads the base and records it.
 */
export const DerivedStartJob = z.object({
  kind: z.literal('derived.start'),
  name: z.string().min(1).max(200),
  task: z.enum(['finetune', 'compress']),
  baseRunDir: PathField,
  /** 'last', 'best' or a checkpoint folder name (step-<N>) of the base run */
  baseCheckpoint: z.string().min(1).max(64),
  settings: CellConfigField,
  runsDir: PathField,
  runId: RunId.optional(),
  backend: BackendRequest.optional(),
}).strict();

/**
 * Reads and cleans a dataset, trains its tokenizer and returns samples and statistics (WorkbenchApi's
 * dataset.preview). It computes nothing on a device, so it runs beside a training job.
 */
export const DatasetPreviewJob = z.object({
  kind: z.literal('dataset.preview'),
  dataset: CellConfigField,
  tokenizer: CellConfigField,
  /** relative dataset paths resolve against this (the experiment file's folder) */
  baseDir: PathField,
  /** how many documents to show, raw, cleaned and as tokens */
  samples: z.number().int().min(1).max(20),
}).strict();

/** Brings a Hugging Face checkpoint folder in as a run folder runsDir/runId (`workbench import`), which then opens like any run. */
export const ModelImportJob = z.object({
  kind: z.literal('model.import'),
  sourceDir: PathField,
  runsDir: PathField,
  runId: RunId,
  name: z.string().min(1).max(200).optional(),
}).strict();

/**
 * Text from a GPT run's checkpoint. It streams as onJobProgress events: `message` the new text of sample
 * `metrics.sample` (at most SAMPLE_LIMITS.streamTokens tokens a piece), `step` of `total` its new tokens so
 * far, `metrics.tokensPerSecond`. job.cancel stops it between tokens (onJobCancelled; what streamed stands).
 */
export const InspectSampleJob = z.object({
  kind: z.literal('inspect.sample'),
  runDir: PathField,
  checkpoint: CheckpointChoice,
  ...SamplingParams.shape,
}).strict();

/** The k most likely tokens and their probabilities at every [MASK] of a text, from a BERT run's checkpoint. */
export const InspectFillMaskJob = z.object({
  kind: z.literal('inspect.fillMask'),
  runDir: PathField,
  checkpoint: CheckpointChoice,
  ...FillMaskParams.shape,
}).strict();

/** Writes a run's checkpoint as a bundle other tools load (`workbench export`), read back and verified before it is published. */
export const BundleExportJob = z.object({
  kind: z.literal('bundle.export'),
  runDir: PathField,
  checkpoint: CheckpointChoice,
  outDir: PathField,
  /** replace a non-empty outDir (default: refuse it) */
  overwrite: z.boolean().optional(),
}).strict();

/** An experiment's pretrain cell as a PyTorch project for a cluster (`workbench export-torch`), with its tokenized dataset and initial weights. */
export const TorchExportJob = z.object({
  kind: z.literal('torch.export'),
  name: z.string().min(1).max(200),
  dataset: CellConfigField,
  tokenizer: CellConfigField,
  model: CellConfigField,
  pretrain: CellConfigField,
  /** relative dataset paths resolve against this (the experiment file's folder) */
  baseDir: PathField,
  outDir: PathField,
  /** replace a non-empty outDir (default: refuse it) */
  overwrite: z.boolean().optional(),
  /** the pretrain cell exported, recorded in its runs */
  cellId: z.string().min(1).max(64).optional(),
}).strict();

export const JobSpec = z.discriminatedUnion('kind', [ModelDescribeJob, ModelTrainStepsJob, PretrainStartJob, PretrainResumeJob, DatasetPreviewJob,
  ModelImportJob, InspectSampleJob, InspectFillMaskJob, InspectAttentionJob, BundleExportJob,
  DerivedStartJob,
  TorchExportJob,
  LoraTargetsJob,
  CompareMeasureJob,
]);
export type JobSpec = z.infer<typeof JobSpec>;
export const JobKind = z.enum(['model.describe', 'model.trainSteps', 'pretrain.start', 'pretrain.resume', 'dataset.preview',
  'model.import', 'inspect.sample', 'inspect.fillMask', 'inspect.attention', 'bundle.export',
  'derived.start',
  'torch.export',
  'finetune.loraTargets',
  'compare.measure',
]);
export type JobKind = z.infer<typeof JobKind>;
// compile-time guard: JobKind lists exactly the kinds JobSpec has
const jobKindsMatch: [JobKind] extends [JobSpec['kind']] ? ([JobSpec['kind']] extends [JobKind] ? true : never) : never = true;
void jobKindsMatch;
export type JobSpecOf<K extends JobKind> = Extract<JobSpec, { kind: K }>;

/**
 * The jobs that compute with TensorFlow.js: the backend is process-wide, so the engine runs one at a time
 * (a second is refused BUSY) and the host shows the engine busy while one runs. The engine's job handlers
 * say the same (usesDevice), checked by engine/server/jobs/index.test.ts.
 */
export const DEVICE_JOB_KINDS: ReadonlySet<JobKind> = new Set<JobKind>(['model.trainSteps', 'pretrain.start', 'pretrain.resume', 'model.import', 'inspect.sample', 'inspect.fillMask', 'inspect.attention', 'bundle.export',
  'derived.start',
  'torch.export',
  'compare.measure',
]);

/** Plain numbers, or null where the value was not finite (JSON cannot carry NaN or Infinity). */
export const Metrics = z.record(z.string().max(64), z.number().nullable());
export type Metrics = z.infer<typeof Metrics>;

/** common/modelStats.ts's ModelStats, as the protocol carries it */
export const ModelStatsSchema = z.object({
  parameters: z.number().int().min(0),
  nonEmbeddingParameters: z.number().int().min(0),
  forwardFlopsPerToken: z.number().min(0),
  trainingFlopsPerToken: z.number().min(0),
}).strict();
// compile-time guard: the schema and modelStats()'s type stay the same shape
const statsMatch: [z.infer<typeof ModelStatsSchema>] extends [ModelStats] ? ([ModelStats] extends [z.infer<typeof ModelStatsSchema>] ? true : never) : never = true;
void statsMatch;

export const ModelDescribeResult = z.object({
  /** the config with every default filled in, as model code reads it */
  config: z.custom<ResolvedModelConfig>(isPlainObject),
  stats: ModelStatsSchema,
}).strict();
export type ModelDescribeResult = z.infer<typeof ModelDescribeResult>;

export const ModelTrainStepsResult = z.object({
  steps: z.number().int().min(0),
  /** one per step, in order */
  losses: z.array(z.number().nullable()),
  finalLoss: z.number().nullable(),
  parameters: z.number().int().min(0),
  elapsedMs: z.number().min(0),
  tokensPerSecond: z.number().min(0),
  backend: BackendInfo,
  /** which optimizer ran the steps, e.g. 'adam' */
  optimizer: z.string(),
}).strict();
export type ModelTrainStepsResult = z.infer<typeof ModelTrainStepsResult>;

export const ModelImportResult = z.object({
  runId: RunId,
  runDir: z.string(),
  /** config.json's architecture, e.g. GPT2LMHeadModel */
  architecture: z.string(),
  parameters: z.number().int().min(0),
  /** what the import filled in (a head the checkpoint lacked), to show the user */
  notes: z.array(z.string()),
}).strict();
export type ModelImportResult = z.infer<typeof ModelImportResult>;

/** The result schema of each job kind; `onJobDone` is checked against it. */
export const JOB_RESULTS = {
  'model.describe': ModelDescribeResult,
  'model.trainSteps': ModelTrainStepsResult,
  'pretrain.start': RunSummary,
  'pretrain.resume': RunSummary,
  'dataset.preview': DatasetPreview,
  'model.import': ModelImportResult,
  'bundle.export': BundleExportResult,
  'inspect.sample': SampleResult,
  'inspect.fillMask': FillMaskResult,
  'inspect.attention': InspectAttentionResult,
  'derived.start': RunSummary,
  'torch.export': TorchExportResult,
  'finetune.loraTargets': LoraTargetsResult,
  'compare.measure': CompareMeasureResult,
} as const satisfies Record<JobKind, z.ZodType>;
export type JobResultOf<K extends JobKind> = z.infer<(typeof JOB_RESULTS)[K]>;

// ---------------------------------------------------------------------------------------------------
// Commands: host → engine

export const HelloCommand = z.object({ type: z.literal('hello'), id: RequestId, protocolVersion: ProtocolVersion }).strict();
export const BackendSelectCommand = z.object({
  type: z.literal('backend.select'),
  id: RequestId,
  backend: BackendRequest,
  /** wasm: XNNPACK threads */
  threads: z.number().int().min(1).max(256).optional(),
}).strict();
export const JobStartCommand = z.object({ type: z.literal('job.start'), id: RequestId, jobId: JobId, job: JobSpec }).strict();
export const JobCancelCommand = z.object({ type: z.literal('job.cancel'), id: RequestId, jobId: JobId }).strict();
/** Pauses or resumes a running pretraining job between steps (job.cancel stops it, with a checkpoint). */
export const JobControlCommand = z.object({ type: z.literal('job.control'), id: RequestId, jobId: JobId, action: z.enum(['pause', 'resume']) }).strict();
export const StatusCommand = z.object({ type: z.literal('status'), id: RequestId }).strict();
export const ShutdownCommand = z.object({ type: z.literal('shutdown'), id: RequestId }).strict();

export const Command = z.discriminatedUnion('type', [
  HelloCommand, BackendSelectCommand, JobStartCommand, JobCancelCommand, JobControlCommand, StatusCommand, ShutdownCommand,
]);
export type Command = z.infer<typeof Command>;
export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;
export const COMMAND_TYPES: readonly CommandType[] = Command.options.map((o) => o.shape.type.value);

// ---------------------------------------------------------------------------------------------------
// Replies: the result of each command, carried by `onReply`

export const HelloResult = z.object({
  engineVersion: z.string(),
  protocolVersion: ProtocolVersion,
  /** the backend the engine computes on now */
  backend: BackendInfo,
  /** backends whose packages are installed here, best first */
  availableBackends: z.array(BackendName),
}).strict();
export const JobSummary = z.object({ jobId: JobId, kind: JobKind, cancelling: z.boolean() }).strict();
export const StatusResult = z.object({
  backend: BackendInfo.nullable(),
  jobs: z.array(JobSummary),
  /** TensorFlow.js's live tensors: a number that keeps growing between jobs is a leak */
  memory: z.object({ numTensors: z.number().int().min(0), numBytes: z.number().min(0) }).strict(),
}).strict();

export const COMMAND_RESULTS = {
  hello: HelloResult,
  'backend.select': BackendInfo,
  'job.start': z.object({ jobId: JobId }).strict(),
  /** the job stops at its next step boundary and reports onJobCancelled */
  'job.cancel': z.object({ jobId: JobId }).strict(),
  'job.control': z.object({ jobId: JobId, action: z.enum(['pause', 'resume']) }).strict(),
  status: StatusResult,
  /** the engine exits once this reply is sent */
  shutdown: z.object({}).strict(),
} as const satisfies Record<CommandType, z.ZodType>;
export type ResultOf<T extends CommandType> = z.infer<(typeof COMMAND_RESULTS)[T]>;

function reply<T extends CommandType>(command: T) {
  return z.object({ type: z.literal('onReply'), id: RequestId, command: z.literal(command), result: COMMAND_RESULTS[command] }).strict();
}
export const OnReply = z.discriminatedUnion('command', [
  reply('hello'), reply('backend.select'), reply('job.start'), reply('job.cancel'), reply('job.control'), reply('status'), reply('shutdown'),
]);

// ---------------------------------------------------------------------------------------------------
// Events: engine → host

/** Sent once, unasked, as soon as the engine listens: the host waits for it before its first command. */
export const OnReady = z.object({ type: z.literal('onReady'), engineVersion: z.string(), protocolVersion: ProtocolVersion, pid: z.number().int() }).strict();
export const OnError = z.object({ type: z.literal('onError'), id: RequestId.nullable(), error: SerializedError }).strict();
export const OnJobStarted = z.object({
  type: z.literal('onJobStarted'), jobId: JobId, kind: JobKind,
  /** null for jobs that compute nothing on a device */
  backend: BackendInfo.nullable(),
}).strict();
export const OnJobProgress = z.object({
  type: z.literal('onJobProgress'), jobId: JobId,
  step: z.number().int().min(0), total: z.number().int().min(0),
  message: z.string().optional(),
  metrics: Metrics.optional(),
}).strict();
function jobDone<K extends JobKind>(kind: K) {
  return z.object({ type: z.literal('onJobDone'), jobId: JobId, kind: z.literal(kind), result: JOB_RESULTS[kind] }).strict();
}
export const OnJobDone = z.discriminatedUnion('kind', [jobDone('model.describe'), jobDone('model.trainSteps'), jobDone('pretrain.start'), jobDone('pretrain.resume'), jobDone('dataset.preview'),
  jobDone('model.import'), jobDone('inspect.sample'), jobDone('inspect.fillMask'), jobDone('inspect.attention'), jobDone('bundle.export'),
  jobDone('derived.start'),
  jobDone('torch.export'),
  jobDone('finetune.loraTargets'),
  jobDone('compare.measure'),
]);
// compile-time guard: every job kind can report done (a kind missing here is dropped by the host as malformed, and its caller waits forever)
const jobDoneCoversKinds: [JobKind] extends [z.infer<typeof OnJobDone>['kind']] ? true : never = true;
void jobDoneCoversKinds;
/** A pretraining run's events, batched (a fast run must not flood the host): steps, evaluations, checkpoints, diagnostics. */
export const OnRunEvents = z.object({ type: z.literal('onRunEvents'), jobId: JobId, events: z.array(RunEvent).max(10_000) }).strict();
export const OnJobFailed = z.object({ type: z.literal('onJobFailed'), jobId: JobId, error: SerializedError }).strict();
export const OnJobCancelled = z.object({ type: z.literal('onJobCancelled'), jobId: JobId }).strict();
export const LogLevel = z.enum(['debug', 'info', 'warn', 'error']);
export const OnLog = z.object({ type: z.literal('onLog'), level: LogLevel, message: z.string(), jobId: JobId.optional() }).strict();

export const EngineEvent = z.discriminatedUnion('type', [
  OnReady, OnReply, OnError, OnJobStarted, OnJobProgress, OnJobDone, OnJobFailed, OnJobCancelled, OnLog, OnRunEvents,
]);
export type EngineEvent = z.infer<typeof EngineEvent>;
export type EventType = EngineEvent['type'];
export type EventOf<T extends EventType> = Extract<EngineEvent, { type: T }>;
// a record, so that the compiler refuses a list that misses an event type
const EVENT_TYPE_SET: Record<EventType, true> = {
  onReady: true, onReply: true, onError: true, onJobStarted: true, onJobProgress: true, onRunEvents: true,
  onJobDone: true, onJobFailed: true, onJobCancelled: true, onLog: true,
};
export const EVENT_TYPES = Object.keys(EVENT_TYPE_SET) as EventType[];
export type JobEvent = EventOf<'onJobStarted' | 'onJobProgress' | 'onRunEvents' | 'onJobDone' | 'onJobFailed' | 'onJobCancelled'>;
export type JobEndEvent = EventOf<'onJobDone' | 'onJobFailed' | 'onJobCancelled'>;

// ---------------------------------------------------------------------------------------------------
// Reading messages

export type Parsed<T> =
  | { ok: true; value: T }
  /** `id`: the request id the message carried, when it was readable, so the answer can name it */
  | { ok: false; id: string | null; error: SerializedError };

function fail(code: ErrorCode, message: string, path?: (string | number)[], id: string | null = null): Parsed<never> {
  const text = message.length > MAX_ERROR_CHARS ? `${message.slice(0, MAX_ERROR_CHARS)}…` : message;
  return { ok: false, id, error: { code, message: text, ...(path && path.length ? { path } : {}) } };
}

/** A value quoted in an error message, kept short: the message may be echoing a hostile input. */
function quote(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * Checks that a decoded value is plain JSON data within the limits (size, depth, no prototype keys).
 * Messages may arrive as already-decoded objects (Node's IPC, structured clone), so this is the only
 * place their size can be judged. The walk stops as soon as a limit is crossed.
 */
function inspectJsonData(root: unknown): { path: (string | number)[]; message: string } | null {
  interface Item { value: unknown; depth: number; key: string | number; parent: Item | null }
  const pathOf = (item: Item): (string | number)[] => {
    const path: (string | number)[] = [];
    for (let at: Item | null = item; at?.parent; at = at.parent) path.unshift(at.key);
    return path;
  };
  let chars = 0;
  const stack: Item[] = [{ value: root, depth: 0, key: '', parent: null }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const { value, depth } = item;
    if (depth > MAX_MESSAGE_DEPTH) return { path: pathOf(item), message: `nested deeper than ${MAX_MESSAGE_DEPTH} levels` };
    switch (typeof value) {
      case 'string': chars += value.length + 2; break;
      case 'boolean': chars += 5; break;
      case 'number':
        if (!Number.isFinite(value)) return { path: pathOf(item), message: `${value} is not a JSON number` };
        chars += 8;
        break;
      case 'object':
        if (value === null) { chars += 4; break; }
        if (Array.isArray(value)) {
          chars += 2 + value.length;
          if (chars > MAX_MESSAGE_CHARS) break;
          for (let i = 0; i < value.length; i++) stack.push({ value: value[i], depth: depth + 1, key: i, parent: item });
          break;
        }
        if (!isPlainObject(value)) return { path: pathOf(item), message: 'not JSON data (a non-plain object)' };
        for (const key of Object.keys(value)) {
          const child = { value: value[key], depth: depth + 1, key, parent: item };
          if (FORBIDDEN_KEYS.has(key)) return { path: pathOf(child), message: `the key "${key}" is not allowed in a message` };
          chars += key.length + 4;
          stack.push(child);
        }
        break;
      default:
        return { path: pathOf(item), message: `not JSON data (${typeof value})` };
    }
    if (chars > MAX_MESSAGE_CHARS) return { path: [], message: `larger than the limit of ${MAX_MESSAGE_CHARS} characters` };
  }
  return null;
}

/** Turns a JSON text or an already-decoded value into checked JSON data. */
function decode(raw: unknown, what: string): Parsed<unknown> {
  let value = raw;
  if (typeof raw === 'string') {
    if (raw.length > MAX_MESSAGE_CHARS) return fail('BAD_MESSAGE', `${what} is ${raw.length} characters, over the limit of ${MAX_MESSAGE_CHARS}`);
    try {
      value = JSON.parse(raw);
    } catch (err) {
      return fail('BAD_MESSAGE', `${what} is not valid JSON (${(err as Error).message})`);
    }
  }
  const problem = inspectJsonData(value);
  if (problem) {
    const where = problem.path.length ? ` at ${problem.path.join('.')}` : '';
    return fail('BAD_MESSAGE', `${what} is refused${where}: ${problem.message}`, problem.path, readableId(value));
  }
  return { ok: true, value };
}

function readableId(value: unknown): string | null {
  if (!isPlainObject(value) || !Object.hasOwn(value, 'id')) return null;
  const id = RequestId.safeParse(value.id);
  return id.success ? id.data : null;
}

function schemaFailure(error: z.ZodError, what: string, id: string | null): Parsed<never> {
  return fail('BAD_MESSAGE', `${what} is malformed: ${formatIssues(error)}`, issuePath(error.issues[0]!), id);
}

/**
 * Reads a command as it arrived (JSON text or a decoded value). Returns the typed command, or the error
 * to answer with: BAD_MESSAGE (not JSON, too big, not an object, a field wrong: `path` names it) or
 * UNKNOWN_COMMAND (a well-formed message of a type this protocol does not have).
 */
export function parseCommand(raw: unknown): Parsed<Command> {
  const decoded = decode(raw, 'the message');
  if (!decoded.ok) return decoded;
  const value = decoded.value;
  const id = readableId(value);
  if (!isPlainObject(value)) return fail('BAD_MESSAGE', `a command is a JSON object, not ${describe(value)}`, undefined, id);
  if (typeof value.type !== 'string') {
    return fail('BAD_MESSAGE', value.type === undefined ? 'the command has no "type"' : `the command's "type" must be a string, not ${describe(value.type)}`, ['type'], id);
  }
  if (!(COMMAND_TYPES as readonly string[]).includes(value.type)) {
    return fail('UNKNOWN_COMMAND', `unknown command ${quote(value.type)}; this engine (protocol ${PROTOCOL_VERSION}) knows ${COMMAND_TYPES.join(', ')}`, ['type'], id);
  }
  const parsed = Command.safeParse(value);
  if (!parsed.success) return schemaFailure(parsed.error, `the "${value.type}" command`, id);
  return { ok: true, value: parsed.data };
}

/** Reads an event from the engine, the host's side of parseCommand. Every failure is BAD_MESSAGE. */
export function parseEvent(raw: unknown): Parsed<EngineEvent> {
  const decoded = decode(raw, 'the event');
  if (!decoded.ok) return decoded;
  const value = decoded.value;
  if (!isPlainObject(value)) return fail('BAD_MESSAGE', `an event is a JSON object, not ${describe(value)}`);
  if (typeof value.type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(value.type)) {
    return fail('BAD_MESSAGE', `unknown event type ${quote(value.type)}; protocol ${PROTOCOL_VERSION} has ${EVENT_TYPES.join(', ')}`, ['type']);
  }
  const parsed = EngineEvent.safeParse(value);
  if (!parsed.success) return schemaFailure(parsed.error, `the "${value.type}" event`, null);
  return { ok: true, value: parsed.data };
}

/** The handshake rule, used by both sides: null when `peer` can be talked to, else the refusal. */
export function checkProtocolVersion(peer: string): SerializedError | null {
  const ours = PROTOCOL_VERSION.split('.')[0];
  const theirs = peer.split('.')[0];
  if (theirs === ours) return null;
  return {
    code: 'PROTOCOL_VERSION',
    message: `the peer speaks protocol ${quote(peer)} but this side speaks ${PROTOCOL_VERSION}; major versions must match — update the older of the host and the engine`,
    path: ['protocolVersion'],
  };
}

/** Metrics as JSON can carry them: non-finite values become null. */
export function finiteMetrics(values: Record<string, number>): Metrics {
  const out: Metrics = {};
  for (const [k, v] of Object.entries(values)) out[k] = Number.isFinite(v) ? v : null;
  return out;
}
