import { z } from 'zod';
import { BackendInfo } from './backends';
import { SerializedError } from './errors';
import { RunStatus } from './runFolder';

/**
 * What a pretraining run reports as it goes — to the command line's progress view, and through the engine
 * protocol (batched in onRunEvents) to the notebook's dashboards. Scalars use metrics.jsonl's tags.
 * Non-finite numbers travel as null: JSON has no NaN.
 */
const num = z.number().nullable();

export const EvalResult = z.object({
  /** the task's loss (mlm-nsp: MLM + NSP); an MoE's load-balancing term is left out */
  loss: z.number(),
  /** exp of the language-model loss alone (causal LM, or the MLM part) */
  perplexity: z.number(),
  /** masked tokens predicted right, over all masked tokens (bert) */
  mlmAccuracy: z.number().optional(),
  /** next-sentence labels predicted right (mlm-nsp) */
  nspAccuracy: z.number().optional(),
  /** a classifier's test examples predicted right (fine-tuning) */
  accuracy: z.number().optional(),
  /** a classifier's unweighted mean of per-class F1 (fine-tuning) */
  macroF1: z.number().optional(),
}).strict();
export type EvalResult = z.infer<typeof EvalResult>;

export const DiagnosticKind = z.enum(['non-finite-loss', 'exploding-gradients', 'vanishing-gradients', 'overfitting']);
export type DiagnosticKind = z.infer<typeof DiagnosticKind>;
export const Diagnostic = z.object({
  kind: DiagnosticKind,
  severity: z.enum(['warning', 'error']),
  step: z.number().int(),
  /** what happened, in a sentence */
  message: z.string(),
  /** what to try */
  advice: z.string(),
}).strict();
export type Diagnostic = z.infer<typeof Diagnostic>;

export const RunEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), status: z.union([RunStatus, z.literal('preparing')]), runId: z.string(), runDir: z.string(), message: z.string().optional() }).strict(),
  /** data preparation: reading, cleaning, tokenizer training, tokenizing */
  z.object({ type: z.literal('progress'), phase: z.string(), done: z.number(), total: z.number() }).strict(),
  z.object({
    type: z.literal('step'), step: z.number().int(), totalSteps: z.number().int(), tokens: z.number(),
    scalars: z.record(z.string(), num), etaSeconds: num,
  }).strict(),
  z.object({ type: z.literal('eval'), step: z.number().int(), train: EvalResult, val: EvalResult }).strict(),
  z.object({ type: z.literal('diagnostic'), diagnostic: Diagnostic }).strict(),
  z.object({ type: z.literal('checkpoint'), step: z.number().int(), name: z.string(), best: z.boolean() }).strict(),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warning']), message: z.string() }).strict(),
]);
export type RunEvent = z.infer<typeof RunEvent>;

/** The end of a run: what `workbench train --json` prints last and the pretrain jobs return. */
export const RunSummary = z.object({
  run_id: z.string(),
  run_dir: z.string(),
  status: RunStatus,
  steps: z.number().int(),
  final_train_loss: num,
  final_val_loss: num,
  best_val_loss: num,
  /** training throughput over the steps this process ran (evaluation excluded) */
  tokens_per_s: num,
  tokens_seen: z.number(),
  backend: BackendInfo,
  precision: z.literal('float32'),
  mlm_accuracy: z.number().optional(),
  nsp_accuracy: z.number().optional(),
  error: SerializedError.optional(),
}).strict();
export type RunSummary = z.infer<typeof RunSummary>;
