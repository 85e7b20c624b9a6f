import { z } from 'zod';
import { DatasetConfig } from './datasetConfig';
import { trainLoopConfig } from './trainLoopConfig';

/**
 * A fine-tuning run: a trained model adapted to a task — a sequence classifier on labelled text, or more
 * language modelling on new text (domain adaptation) — with every weight training (full) or through LoRA
 * adapters (lora). The run starts from a base run's checkpoint (common/runConfig.ts `BaseRunRef`).
 */

/** LoRA's settings (Hu et al. 2021; PEFT's names): rank, scale alpha/r, dropout on the adapter's input, and which modules it adapts. */
export const LoraConfig = z.object({
  r: z.number().int().min(1).max(256).default(8).describe('rank of the adapter'),
  alpha: z.number().positive().default(16).describe('the adapter is scaled by alpha / r'),
  dropout: z.number().min(0).lt(1).default(0.05).describe('dropout on the adapter\'s input'),
  targetModules: z.array(z.string().min(1)).min(1).optional()
    .describe('name patterns over the model\'s modules (e.g. c_attn, attention.self.query); default: the attention projections'),
}).strict();
export type LoraConfig = z.output<typeof LoraConfig>;

/** A JSON Lines task file is read whole up to these bounds (a larger one is refused, naming the bound). */
export const JSONL_TASK_MAX_BYTES = 64 * 1024 * 1024;
export const JSONL_TASK_MAX_LINES = 200_000;
/** Labels a classification task may have: the head's width, and the confusion matrix's side. */
export const MAX_LABELS = 256;

/** What the model is fine-tuned on. */
export const FinetuneData = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('brown-genre'),
    /** tokens per passage; default: the model's contextLength */
    passageTokens: z.number().int().min(8).optional().describe('tokens per passage (default: the model\'s contextLength)'),
    /** share of the documents held out for testing (split by document within each genre, never by passage) */
    testShare: z.number().gt(0).lt(1).default(0.2),
    /** passages taken from each document, evenly spaced (default: all): a quick run on a slow machine takes fewer */
    passagesPerDocument: z.number().int().min(1).optional().describe('passages taken from each document, evenly spaced (default: every full passage)'),
  }).strict(),
  z.object({
    kind: z.literal('jsonl'),
    /** a JSON Lines file of {text, label} or {text, text_pair, label} */
    file: z.string().min(1, 'give the path of a JSON Lines file of {"text", "label"} objects'),
    /** share of the lines held out for testing (a seeded shuffle of the lines) */
    testShare: z.number().gt(0).lt(1).default(0.2),
  }).strict(),
  z.object({
    kind: z.literal('domain'),
    /** the new text, as a dataset cell's source; the base run's tokenizer tokenizes it */
    dataset: DatasetConfig,
    /** relative dataset paths resolve against this folder; default: the base's experiment folder */
    baseDir: z.string().min(1).optional(),
  }).strict(),
]);
export type FinetuneData = z.output<typeof FinetuneData>;
export type ClassificationData = Extract<FinetuneData, { kind: 'brown-genre' | 'jsonl' }>;

export const FinetuneConfig = z.object({
  data: FinetuneData,
  method: z.enum(['full', 'lora']).default('lora'),
  lora: LoraConfig.default(LoraConfig.parse({})),
  /**
   * pretrained: start from the base checkpoint's weights. scratch: the base's architecture and tokenizer with
   * freshly initialised weights — the baseline a pretrained model has to beat.
   */
  init: z.enum(['pretrained', 'scratch']).default('pretrained'),
  /** test passages (or lines) each evaluation classifies, evenly spaced over the test split; the run log says how many of how many */
  maxEvalExamples: z.number().int().min(1).max(100_000).default(1024),
  loop: trainLoopConfig({ steps: 300, batchSize: 16, lr: 5e-4, minLr: 5e-5, warmupSteps: 30, evalInterval: 50 }).prefault({}),
}).strict();
export type FinetuneConfig = z.output<typeof FinetuneConfig>;
export type FinetuneConfigInput = z.input<typeof FinetuneConfig>;
