import { z } from 'zod';
import { BackendInfo } from './backends';

/**
 * The comparison of a base run and its variants (issue 12's comparison view): one measurement run, on the
 * base's held-out data, the same backend and threads for every model. The engine's `compare.measure` job
 * writes it as files in the base run folder (compare/comparison.json and comparison.csv) after each model,
 * so that rows appear as variants finish; the host reads the JSON for the compress cell, the CSV is for
 * other tools. Both are built from the schema here, so the CLI, the host and the renderer's export agree.
 */

export const COMPARISON_FORMAT = 'transformer-workbench.comparison';
/** the folder in the base run, and the files in it */
export const COMPARE_DIR = 'compare';
export const COMPARISON_JSON = 'comparison.json';
export const COMPARISON_CSV = 'comparison.csv';

/** Bounds of one measurement run; each is a limit on time or memory, stated in the file. */
export const COMPARE_LIMITS = {
  /** variants measured in one run (the base is one more) */
  maxVariants: 32,
  /** held-out batches for loss, perplexity, KL and top-1 agreement */
  maxEvalBatches: 32,
  maxBatchSize: 32,
  /** sequences whose attention is compared head by head (the first of the first held-out batch) */
  attentionSequences: 4,
  /** timed repetitions per runtime, after one untimed warm-up; fewer when the time budget is spent */
  latencyReps: 10,
  latencyBudgetMs: 2000,
  /** the largest comparison.json the host reads back */
  maxFileBytes: 16 * 1024 * 1024,
} as const;

const RunDir = z.string().min(1).max(4096);
const Checkpoint = z.string().min(1).max(64);

/** The engine job. Variants default to every run beside the base that names it as its base. */
export const CompareMeasureJob = z.object({
  kind: z.literal('compare.measure'),
  baseRunDir: RunDir,
  /** 'last', 'best' or step-N; default: the checkpoint the variants were derived from, when they agree, else 'last' */
  baseCheckpoint: Checkpoint.optional(),
  variantRunDirs: z.array(RunDir).max(COMPARE_LIMITS.maxVariants).optional(),
  evalBatches: z.number().int().min(1).max(COMPARE_LIMITS.maxEvalBatches).optional(),
  batchSize: z.number().int().min(1).max(COMPARE_LIMITS.maxBatchSize).optional(),
}).strict();
export type CompareMeasureJob = z.infer<typeof CompareMeasureJob>;

export const CompareMeasureResult = z.object({
  /** compare/comparison.json and comparison.csv in the base run */
  jsonFile: z.string(),
  csvFile: z.string(),
  rows: z.number().int().min(0),
  /** rows whose model could not be measured (each says why in its `error`) */
  failed: z.number().int().min(0),
}).strict();
export type CompareMeasureResult = z.infer<typeof CompareMeasureResult>;

/** Where a latency was measured: TF.js for float models; ONNX Runtime for int8 variants and their float32 twin. */
export const LatencyRuntime = z.enum(['tfjs', 'onnx-float32', 'onnx-int8']);
export type LatencyRuntime = z.infer<typeof LatencyRuntime>;

export const Latency = z.object({
  runtime: LatencyRuntime,
  /** the median timed repetition, divided by its sequences */
  msPerSequence: z.number().min(0),
  sequencesPerSecond: z.number().min(0),
  batch: z.number().int().min(1),
  seqLen: z.number().int().min(1),
  threads: z.number().int().min(1),
  reps: z.number().int().min(1),
  /**
   * this time over a reference's timed interleaved with it in the same loop (a ratio a noisy machine cannot
   * skew as it skews two separate timings): a float variant against the base in TF.js, an int8 graph against
   * its float32 twin in ONNX Runtime. Below 1 is faster.
   */
  reference: z.object({ of: z.enum(['base', 'float32-twin']), ratio: z.number().positive() }).strict().optional(),
}).strict();
export type Latency = z.infer<typeof Latency>;

/** A layer's relative Frobenius error ‖W_variant − W_base‖ / ‖W_base‖ over its matrices. */
export const LayerError = z.object({ layer: z.string(), relError: z.number().min(0) }).strict();

/**
 * Jensen–Shannon divergence (bits, 0…1) of each head's attention rows, base against variant, [layer][head]
 * of the variant; null where the head is removed (its output projection is all zeros). `baseLayers[i]` is the
 * base layer the variant's layer i is compared with.
 */
export const HeadDivergence = z.object({
  baseLayers: z.array(z.number().int().min(0)),
  js: z.array(z.array(z.number().min(0).nullable())),
  /** how layers and heads were matched, in words */
  mapping: z.string(),
}).strict();
export type HeadDivergence = z.infer<typeof HeadDivergence>;

export const CompareRow = z.object({
  runId: z.string(),
  runDir: z.string(),
  name: z.string(),
  role: z.enum(['base', 'variant']),
  /** 'base', a compression method (int8, qat, distill, prune), 'finetune', or the run's task */
  method: z.string(),
  checkpoint: z.string(),
  step: z.number().int().min(0),
  parameters: z.number().int().min(0).nullable(),
  /** weights that are not exactly zero (magnitude pruning lowers this, not `parameters`) */
  nonZeroParameters: z.number().int().min(0).nullable(),
  /** the checkpoint's model weights file */
  bytesOnDisk: z.number().int().min(0).nullable(),
  latency: z.array(Latency),
  valLoss: z.number().nullable(),
  perplexity: z.number().nullable(),
  /** a fine-tuned classifier's accuracy on its task's held-out data; null with the reason in notes */
  taskAccuracy: z.number().min(0).max(1).nullable(),
  /** mean KL(base ‖ variant) of the next-token (GPT) or masked-token (BERT) distributions, nats; 0 for the base */
  klToBase: z.number().nullable(),
  /** share of predicted positions where the variant's top token is the base's */
  top1Agreement: z.number().min(0).max(1).nullable(),
  /** per layer, for variants whose weights have the base's names and shapes (quantized, magnitude-pruned) */
  weightError: z.array(LayerError).nullable(),
  heads: HeadDivergence.nullable(),
  /** what was not measured and why, and what the figures mean where they are not plain */
  notes: z.array(z.string()),
  /** set when the model could not be measured at all; the other figures are then null */
  error: z.string().optional(),
}).strict();
export type CompareRow = z.infer<typeof CompareRow>;

export const Comparison = z.object({
  format: z.literal(COMPARISON_FORMAT),
  version: z.literal(1),
  baseRunDir: z.string(),
  baseRunId: z.string(),
  createdAt: z.string(),
  /** false while the measurement runs (rows so far), true when every model was measured */
  complete: z.boolean(),
  /** the models planned, base included */
  planned: z.number().int().min(1),
  backend: BackendInfo.nullable(),
  data: z.object({
    objective: z.string(),
    batches: z.number().int().min(0),
    batchSize: z.number().int().min(1),
    seqLen: z.number().int().min(1),
    /** the pretraining run whose held-out split this is */
    sourceRunDir: z.string(),
  }).strict(),
  limits: z.record(z.string(), z.number()),
  rows: z.array(CompareRow).max(COMPARE_LIMITS.maxVariants + 1),
}).strict();
export type Comparison = z.infer<typeof Comparison>;

// ---------------------------------------------------------------------------------------------------
// the table as CSV: one line per model, the figures a spreadsheet wants (heatmaps stay in the JSON)

const latencyOf = (r: CompareRow, runtime: LatencyRuntime) => r.latency.find((l) => l.runtime === runtime);

const CSV_COLUMNS: [string, (r: CompareRow) => string | number | null | undefined][] = [
  ['run_id', (r) => r.runId], ['name', (r) => r.name], ['role', (r) => r.role], ['method', (r) => r.method],
  ['checkpoint', (r) => r.checkpoint], ['step', (r) => r.step],
  ['parameters', (r) => r.parameters], ['nonzero_parameters', (r) => r.nonZeroParameters], ['bytes_on_disk', (r) => r.bytesOnDisk],
  ['tfjs_ms_per_seq', (r) => latencyOf(r, 'tfjs')?.msPerSequence], ['tfjs_seq_per_s', (r) => latencyOf(r, 'tfjs')?.sequencesPerSecond],
  ['tfjs_vs_base', (r) => latencyOf(r, 'tfjs')?.reference?.ratio],
  ['onnx_f32_ms_per_seq', (r) => latencyOf(r, 'onnx-float32')?.msPerSequence], ['onnx_int8_ms_per_seq', (r) => latencyOf(r, 'onnx-int8')?.msPerSequence],
  ['int8_vs_float32', (r) => latencyOf(r, 'onnx-int8')?.reference?.ratio],
  ['val_loss', (r) => r.valLoss], ['perplexity', (r) => r.perplexity], ['task_accuracy', (r) => r.taskAccuracy],
  ['kl_to_base', (r) => r.klToBase], ['top1_agreement', (r) => r.top1Agreement],
  ['max_layer_weight_error', (r) => (r.weightError?.length ? Math.max(...r.weightError.map((e) => e.relError)) : null)],
  ['mean_head_js', (r) => meanHeadJs(r)],
  ['notes', (r) => [...(r.error ? [r.error] : []), ...r.notes].join('; ')],
];

/** The mean JS divergence over the heads that remain, or null when none was measured. */
export function meanHeadJs(r: CompareRow): number | null {
  const vals = (r.heads?.js ?? []).flat().filter((v): v is number => v !== null);
  return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
}

function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The comparison as CSV (RFC 4180: quoted where needed, CRLF line ends). */
export function comparisonCsv(c: Comparison): string {
  const lines = [CSV_COLUMNS.map(([h]) => h).join(','), ...c.rows.map((r) => CSV_COLUMNS.map(([, f]) => csvCell(f(r))).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
