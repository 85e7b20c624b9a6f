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

/** What the model is fine-tuned on. */
export const FinetuneData = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('brown-genre'),
    /** tokens per passage; default: the model's contextLength */
    passageTokens: z.number().int().min(8).optional(),
    /** share of the documents held out for testing (split by document, never by passage) */
    testShare: z.number().gt(0).lt(1).default(0.2),
  }).strict(),
  z.object({
    kind: z.literal('jsonl'),
    /** a JSON Lines file of {text, label} or {text, text_pair, label} */
    file: z.string().min(1),
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

export const FinetuneConfig = z.object({
  data: FinetuneData,
  method: z.enum(['full', 'lora']).default('lora'),
  lora: LoraConfig.default(LoraConfig.parse({})),
  loop: trainLoopConfig({ steps: 300, batchSize: 16, lr: 5e-4, minLr: 5e-5, warmupSteps: 30, evalInterval: 50 }).prefault({}),
}).strict();
export type FinetuneConfig = z.output<typeof FinetuneConfig>;
export type FinetuneConfigInput = z.input<typeof FinetuneConfig>;
