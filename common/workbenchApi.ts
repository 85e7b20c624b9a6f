import { z } from 'zod';
import { BackendInfo, BackendRequest } from './backends';
import { BundleExportResult } from './bundle';
import { TorchExportResult } from './torchExport';
import { DataUploadParams, DataUploadResult } from './dataUpload';
import { DatasetConfig, DatasetSummary } from './datasetConfig';
import { SerializedError } from './errors';
import { RunId, RunJson } from './runFolder';
import { ServeStarted } from './serveApi';
import { RunEvent, RunSummary } from './runEvents';
import { CheckpointChoice, FillMaskParams, FillMaskResult, SampleResult, SamplingParams } from './sampling';
import { TokenizerConfig } from './tokenizerConfig';
import { WorkbenchState } from './workbenchState';
import { formatIssues, issuePath } from './zodIssues';
import { LoraTargetsResult, TargetPatterns } from './loraTargets';
import { ClassificationReport } from './classificationReport';
import { CheckpointInfo, CheckpointRef, HeadHistory, InspectCheckpoints, InspectHead, InspectInput, InspectOverview } from './inspect';
import { COMPARE_LIMITS, Comparison } from './compare';

/**
 * WorkbenchApi: the one door between the UI (renderer/) and everything else. Implemented once by the host
 * services (electron/, plain Node) and carried two ways — by Electron's preload bridge on the desktop and
 * by a WebSocket to 127.0.0.1 in browser mode. Each method is a request schema and a result schema; each
 * event a payload schema. Both sides validate what they receive; errors travel as SerializedError.
 */

const Path = z.string().min(1).max(4096);
/** An experiment document as JSON; the host validates it with common/experiment.ts before writing. */
const ExperimentDoc = z.record(z.string(), z.unknown());

export const ExperimentTemplate = z.object({ id: z.string(), name: z.string(), description: z.string() }).strict();

/**
 * A run is named by its experiment file and its run id (the folder NAME.runs/RUN_ID beside the file,
 * common/experiment.ts runDirOf): the one handle of a run in every call and event. The engine's job that
 * trains it carries the same id.
 */
const RunHandle = { experimentPath: Path, runId: RunId };

/** Names one inspect request in its events; the engine's job id is made from it, hence the alphabet. */
const InspectRequestId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a request id is 1–64 characters of A–Z a–z 0–9 _ - and starts with a letter or digit');

/** One run of an experiment, for the runs list; `problem` when its folder could not be read. */
export const RunListEntry = z.union([
  z.object({ ok: z.literal(true), id: RunId, run: RunJson }).strict(),
  z.object({ ok: z.literal(false), id: z.string(), problem: z.string() }).strict(),
]);

/** A metrics.jsonl line as charts read it; non-finite values as null. */
export const MetricsPoint = z.object({
  step: z.number().int(),
  wallTime: z.number(),
  tokens: z.number(),
  scalars: z.record(z.string(), z.number().nullable()),
}).strict();
export type MetricsPoint = z.infer<typeof MetricsPoint>;

export const DatasetSample = z.object({
  id: z.string(),
  label: z.string().optional(),
  raw: z.string(),
  cleaned: z.string(),
  /** the cleaned text's first tokens, as the tokenizer's strings */
  tokens: z.array(z.string()),
}).strict();

/** A dataset preview: its summary and a few documents raw, cleaned and tokenized. */
export const DatasetPreview = DatasetSummary.extend({ samples: z.array(DatasetSample) }).strict();
export type DatasetPreview = z.infer<typeof DatasetPreview>;

export const EngineState = z.enum(['starting', 'ready', 'busy', 'crashed', 'restarting', 'stopped']);
export const EngineStatus = z.object({
  state: EngineState,
  pid: z.number().int().nullable(),
  backend: BackendInfo.nullable(),
  /** why the engine last died, in words, when it did */
  lastExit: z.string().nullable(),
  restarts: z.number().int().min(0),
}).strict();
export type EngineStatus = z.infer<typeof EngineStatus>;

function method<P extends z.ZodType, R extends z.ZodType>(params: P, result: R) {
  return { params, result };
}

export const WORKBENCH_METHODS = {
  /** the example experiments a new one can start from */
  'experiments.templates': method(z.object({}).strict(), z.array(ExperimentTemplate)),
  /** a new, unsaved experiment from a template */
  'experiments.create': method(z.object({ template: z.string() }).strict(), z.object({ doc: ExperimentDoc }).strict()),
  /**
   * reads, migrates and validates; a malformed or newer file is refused with a message and never written.
   * `doc` is the document as written (no defaults filled in); `state` what the workbench keeps beside it
   * (NAME.runs/workbench-state.json), empty when there is none, with `stateWarning` when it was damaged.
   */
  'experiments.open': method(z.object({ path: Path }).strict(), z.object({
    path: Path, doc: ExperimentDoc, migratedFrom: z.number().int().optional(), mtimeMs: z.number(),
    state: WorkbenchState, stateWarning: z.string().optional(),
  }).strict()),
  /** atomic save; refused when the file changed on disk since `expectedMtimeMs` (another writer) */
  'experiments.save': method(
    z.object({ path: Path, doc: ExperimentDoc, expectedMtimeMs: z.number().optional() }).strict(),
    z.object({ path: Path, mtimeMs: z.number() }).strict(),
  ),
  /** replaces, atomically, what the workbench keeps beside the saved experiment at `path` (previews, overlay choices) */
  'experiments.saveState': method(z.object({ path: Path, state: WorkbenchState }).strict(), z.object({}).strict()),
  'experiments.recent': method(z.object({}).strict(), z.array(Path)),
  /** experiment files in the workspace (browser mode has no native dialog) */
  'experiments.list': method(z.object({}).strict(), z.array(z.object({ path: Path, name: z.string(), mtimeMs: z.number() }).strict())),

  /** reads and cleans the dataset, trains its tokenizer, and returns samples and statistics */
  'dataset.preview': method(z.object({ dataset: DatasetConfig, tokenizer: TokenizerConfig, experimentPath: Path.nullable(), samples: z.number().int().min(1).max(20).default(5) }).strict(), DatasetPreview),

  /**
   * a text file the user picked or dropped, into the data/ folder beside the saved experiment: refused when
   * too large, empty, binary or not UTF-8, badly named, or (without overwrite) when a different file has its name
   */
  'dataset.upload': method(DataUploadParams, DataUploadResult),

  /** starts the pretrain cell `cellId` of the saved experiment at `experimentPath`: a new run, whose id the host picks */
  'runs.start': method(
    z.object({ experimentPath: Path, cellId: z.string(), backend: BackendRequest.optional(), steps: z.number().int().min(1).optional() }).strict(),
    z.object({ runId: RunId }).strict(),
  ),
  /**
   * starts a run from the checkpoint of another run of the experiment: fine-tuning (`settings`:
   * common/finetuneConfig.ts) or compression (common/compressConfig.ts); the host picks its id
   */
  'runs.derive': method(
    z.object({
      experimentPath: Path, baseRunId: RunId, checkpoint: z.string().min(1).max(64).default('last'),
      task: z.enum(['finetune', 'compress']), settings: z.record(z.string(), z.unknown()), name: z.string().min(1).max(200).optional(),
    }).strict(),
    z.object({ runId: RunId }).strict(),
  ),
  /** the modules of a run's model that LoRA target patterns select, with each pattern's count and the problems of any that cannot be used */
  'finetune.loraTargets': method(z.object({ ...RunHandle, patterns: TargetPatterns.optional() }).strict(), LoraTargetsResult),
  /** a fine-tuned classifier's last evaluation (eval/classification.json: per-class figures, confusion matrix), null before its first */
  'runs.classificationReport': method(z.object(RunHandle).strict(), ClassificationReport.nullable()),
  /** continues a stopped or crashed run from its newest valid checkpoint */
  'runs.resume': method(z.object(RunHandle).strict(), z.object({ runId: RunId }).strict()),
  'runs.control': method(z.object({ ...RunHandle, action: z.enum(['pause', 'resume', 'stop']) }).strict(), z.object({}).strict()),
  'runs.list': method(z.object({ experimentPath: Path }).strict(), z.array(RunListEntry)),
  /** a run's curves from its metrics.jsonl, from `sinceStep` on */
  'runs.metrics': method(z.object({ ...RunHandle, sinceStep: z.number().int().min(0).optional() }).strict(), z.array(MetricsPoint)),
  /**
   * a Hugging Face GPT-2 or BERT checkpoint folder (config.json, model.safetensors, tokenizer.json) as a new run
   * of the saved experiment, which every view then opens; `notes` says what the import filled in
   */
  /**
   * a run's checkpoint as a bundle other tools load (safetensors, config, tokenizer, card, ONNX float32 and int8),
   * read back and verified before it is published; into `outDir` (default: bundles/RUN_ID beside the experiment)
   */
  'runs.export': method(
    z.object({ ...RunHandle, checkpoint: z.enum(['last', 'best']).default('last'), outDir: Path.optional(), overwrite: z.boolean().default(false) }).strict(),
    BundleExportResult,
  ),
  /**
   * the pretrain cell `cellId` of the saved experiment as a PyTorch project for a cluster (torchrun, DDP, ZeRO-1, FSDP)
   * whose runs come back as run folders; into `outDir` (default: torch/CELL_ID beside the experiment)
   */
  'runs.exportTorch': method(
    z.object({ experimentPath: Path, cellId: z.string(), outDir: Path.optional(), overwrite: z.boolean().default(false) }).strict(),
    TorchExportResult,
  ),
  'runs.import': method(
    z.object({ experimentPath: Path, sourceDir: Path }).strict(),
    z.object({ runId: RunId, architecture: z.string(), parameters: z.number().int().min(0), notes: z.array(z.string()) }).strict(),
  ),

  /**
   * starts sampling from a GPT run's checkpoint; the text streams as onSampleText events and ends with one
   * onSampleEnded, all carrying `requestId` — chosen by the caller, so it listens before the first piece comes
   */
  'inspect.sample': method(z.object({ ...RunHandle, checkpoint: CheckpointChoice, requestId: InspectRequestId, ...SamplingParams.shape }).strict(), z.object({}).strict()),
  /** stops a sampling request after its current token (onSampleEnded says cancelled) */
  'inspect.stopSample': method(z.object({ requestId: InspectRequestId }).strict(), z.object({}).strict()),
  /** the top-k tokens and probabilities at each [MASK] of a text, from a BERT run's checkpoint */
  'inspect.fillMask': method(z.object({ ...RunHandle, checkpoint: CheckpointChoice, ...FillMaskParams.shape }).strict(), FillMaskResult),

  /** the run's model behind the local inference server (`workbench serve`), or the one already serving it: its URL, token and a curl to try */
  'serve.start': method(z.object({ ...RunHandle, checkpoint: z.string().max(64).optional() }).strict(), ServeStarted),
  /** stops the run's inference server; nothing when none is running */
  'serve.stop': method(z.object(RunHandle).strict(), z.object({}).strict()),

  /** the inspect cell: a run's checkpoints (oldest first), with what last.json and best.json point at */
  'inspect.checkpoints': method(z.object(RunHandle).strict(), InspectCheckpoints),
  /** the model view of a text at a checkpoint: tokens, head statistics, every head as a thumbnail; computed first when not cached */
  'inspect.open': method(z.object({ ...RunHandle, checkpoint: CheckpointRef, ...InspectInput.shape }).strict(), InspectOverview),
  /** one head's full map of a text at a checkpoint; computed first when not cached */
  'inspect.head': method(z.object({ ...RunHandle, checkpoint: CheckpointRef, ...InspectInput.shape, layer: z.number().int().min(0).max(1023), head: z.number().int().min(0).max(1023) }).strict(), InspectHead),
  /** the text's maps at every kept checkpoint, as a job: onInspectProgress per checkpoint, then onInspectEnded */
  'inspect.replay': method(z.object({ ...RunHandle, ...InspectInput.shape }).strict(), z.object({ jobId: z.string(), checkpoints: z.array(CheckpointInfo) }).strict()),
  'inspect.cancelReplay': method(z.object({ jobId: z.string().min(1).max(128) }).strict(), z.object({}).strict()),
  /** one head's statistics at every evaluation of the run (attention-stats.jsonl) */
  'inspect.headHistory': method(z.object({ ...RunHandle, layer: z.number().int().min(0).max(1023), head: z.number().int().min(0).max(1023) }).strict(), HeadHistory),

  /** the comparison of a base run and its variants (default: every run derived from it), as a job: onCompareProgress as rows land, then onCompareEnded */
  'compare.start': method(z.object({
    ...RunHandle, checkpoint: z.string().min(1).max(64).optional(), variantRunIds: z.array(RunId).max(COMPARE_LIMITS.maxVariants).optional(),
    evalBatches: z.number().int().min(1).max(COMPARE_LIMITS.maxEvalBatches).optional(), batchSize: z.number().int().min(1).max(COMPARE_LIMITS.maxBatchSize).optional(),
  }).strict(), z.object({ jobId: z.string() }).strict()),
  'compare.cancel': method(z.object({ jobId: z.string().min(1).max(128) }).strict(), z.object({}).strict()),
  /** the base run's comparison as last written (rows so far while one runs); null when it has none */
  'compare.read': method(z.object(RunHandle).strict(), Comparison.nullable()),
  /** the base run's comparison as CSV or JSON in comparisons/ beside the experiment */
  'compare.export': method(z.object({ ...RunHandle, format: z.enum(['csv', 'json']) }).strict(), z.object({ path: Path, bytes: z.number().int().min(0) }).strict()),

  'engine.status': method(z.object({}).strict(), EngineStatus),
  'engine.restart': method(z.object({}).strict(), EngineStatus),
} as const;

export type WorkbenchMethod = keyof typeof WORKBENCH_METHODS;
export type ParamsOf<M extends WorkbenchMethod> = z.input<(typeof WORKBENCH_METHODS)[M]['params']>;
export type ResultOfMethod<M extends WorkbenchMethod> = z.output<(typeof WORKBENCH_METHODS)[M]['result']>;

export const WORKBENCH_EVENTS = {
  /** a training run's events, batched as the engine sent them */
  onRunEvents: z.object({ ...RunHandle, events: z.array(RunEvent) }).strict(),
  /** a run's training job ended: done with its summary, failed with its error, or cancelled */
  onJobEnded: z.object({ ...RunHandle, outcome: z.enum(['done', 'failed', 'cancelled']), summary: RunSummary.optional(), error: SerializedError.optional() }).strict(),
  onEngineStatus: EngineStatus,
  /** the next piece of sample `sample` of an inspect.sample request, with its new tokens so far */
  onSampleText: z.object({
    ...RunHandle, requestId: InspectRequestId, sample: z.number().int().min(0), text: z.string(),
    newTokens: z.number().int().min(0), maxNewTokens: z.number().int().min(1), tokensPerSecond: z.number().min(0),
  }).strict(),
  /** an inspect.sample request ended: done with every sample's text, failed with its error, or cancelled (what streamed stands) */
  onSampleEnded: z.object({ ...RunHandle, requestId: InspectRequestId, outcome: z.enum(['done', 'failed', 'cancelled']), result: SampleResult.optional(), error: SerializedError.optional() }).strict(),
  /** an inspect replay computed one more checkpoint (`checkpoint`, its name) */
  onInspectProgress: z.object({ jobId: z.string(), ...RunHandle, done: z.number().int().min(0), total: z.number().int().min(0), checkpoint: z.string().nullable() }).strict(),
  onInspectEnded: z.object({ jobId: z.string(), ...RunHandle, outcome: z.enum(['done', 'failed', 'cancelled']), error: SerializedError.optional() }).strict(),
  /** a comparison measured one more model (`done` of `total`; `message`: what it does now) */
  onCompareProgress: z.object({ jobId: z.string(), ...RunHandle, done: z.number().int().min(0), total: z.number().int().min(0), message: z.string().nullable() }).strict(),
  onCompareEnded: z.object({ jobId: z.string(), ...RunHandle, outcome: z.enum(['done', 'failed', 'cancelled']), error: SerializedError.optional() }).strict(),
  /** a command chosen in the desktop menu, to run through the renderer's command registry */
  onMenuCommand: z.object({ command: z.string(), args: z.array(z.string()).optional() }).strict(),
} as const;

export type WorkbenchEvent = keyof typeof WORKBENCH_EVENTS;
export type PayloadOf<E extends WorkbenchEvent> = z.output<(typeof WORKBENCH_EVENTS)[E]>;

/** What the renderer holds: typed calls and typed subscriptions; the transport is the host's business. */
export interface WorkbenchApi {
  call<M extends WorkbenchMethod>(method: M, params: ParamsOf<M>): Promise<ResultOfMethod<M>>;
  on<E extends WorkbenchEvent>(event: E, listener: (payload: PayloadOf<E>) => void): () => void;
}

// ---------------------------------------------------------------------------------------------------
// The wire (browser mode's WebSocket; Electron's IPC carries the same shapes)

export const WireRequest = z.object({ id: z.number().int().min(0), method: z.string().max(64), params: z.unknown() }).strict();
export const WireResponse = z.union([
  z.object({ id: z.number().int(), result: z.unknown() }).strict(),
  z.object({ id: z.number().int(), error: SerializedError }).strict(),
]);
export const WireEvent = z.object({ event: z.string().max(64), payload: z.unknown() }).strict();

/** The params of a call, validated; a SerializedError naming the method and field when they are not. */
export function parseParams<M extends WorkbenchMethod>(method: string, params: unknown):
  { ok: true; method: M; params: z.output<(typeof WORKBENCH_METHODS)[M]['params']> } | { ok: false; error: z.infer<typeof SerializedError> } {
  if (!Object.hasOwn(WORKBENCH_METHODS, method)) {
    return { ok: false, error: { code: 'UNKNOWN_COMMAND', message: `unknown method '${method}'; the workbench API has ${Object.keys(WORKBENCH_METHODS).join(', ')}` } };
  }
  const r = WORKBENCH_METHODS[method as M].params.safeParse(params ?? {});
  if (!r.success) {
    return { ok: false, error: { code: 'BAD_MESSAGE', message: `${method}: ${formatIssues(r.error)}`, path: issuePath(r.error.issues[0]) } };
  }
  return { ok: true, method: method as M, params: r.data as z.output<(typeof WORKBENCH_METHODS)[M]['params']> };
}
