import { z } from 'zod';
import { trainLoopConfig } from './trainLoopConfig';

/**
 * A compression run: a smaller or faster variant of a trained model (its base, common/runConfig.ts
 * `BaseRunRef`), by one of four methods. int8 quantizes the weights once and trains nothing; QAT, distillation
 * and pruning fine-tune, so they carry a loop config.
 */

/** Which activations are quantized and how their ranges are found: symmetric int8, the input of every int8 projection. */
export const ActivationQuant = z.object({
  mode: z.enum(['dynamic', 'static']).default('dynamic').describe('dynamic: one range per token, found at run time; static: one range per projection input, calibrated once'),
  calibrationBatches: z.number().int().min(1).max(256).default(8).describe('static: batches of the base\'s training data the ranges are measured on'),
  observer: z.enum(['minmax', 'percentile']).default('minmax').describe('static: minmax takes the largest |x| seen; percentile the |x| percentile below, which ignores rare outliers'),
  percentile: z.number().gt(50).max(100).default(99.99).describe('percentile observer: the |x| percentile taken as the range'),
}).strict();
export type ActivationQuant = z.output<typeof ActivationQuant>;

/**
 * Weights left in float32, by name pattern (`*` matches any run of characters; engine names, e.g.
 * `h.0.attn.c_attn.weight`, `bert.embeddings.word_embeddings.weight`). Vectors (biases, norms) always stay
 * float32. The default keeps the position and token-type tables: a few per cent of the weights, read by every
 * token. The word embeddings (the tied LM head) are int8 per row by default: in the examples' small models
 * they are most of the bytes, and keeping them float would leave the model about 2× smaller instead of ≈ 4×.
 */
export const DEFAULT_KEEP_FLOAT = ['wpe.weight', '*.position_embeddings.weight', '*.token_type_embeddings.weight'] as const;
export const KEEP_FLOAT_REASON = 'position and token-type tables are a few per cent of the weights and every token reads them, so they stay exact; vectors (biases, norms) are always float32';
const keepFloat = z.array(z.string().min(1).max(200)).max(100).default([...DEFAULT_KEEP_FLOAT]).describe('name patterns (* wildcard) of weights kept in float32');

/** Data the int8 variant is measured on, beside its base: the base's held-out batches. */
const measure = z.object({
  batchSize: z.number().int().min(1).max(512).default(8),
  evalBatches: z.number().int().min(1).max(512).default(8).describe('held-out batches base and variant are measured on'),
  seed: z.number().int().min(0).default(1337),
}).strict();

export const Int8Config = z.object({
  method: z.literal('int8'),
  activations: ActivationQuant.prefault({}),
  keepFloat,
  measure: measure.prefault({}),
}).strict();
export type Int8Config = z.output<typeof Int8Config>;

export const QatConfig = z.object({
  method: z.literal('qat'),
  activations: ActivationQuant.prefault({}),
  keepFloat,
  measure: measure.prefault({}),
  loop: trainLoopConfig({ steps: 200, batchSize: 12, lr: 1e-4, minLr: 1e-5, warmupSteps: 20, evalInterval: 50 }).prefault({}),
}).strict();
export type QatConfig = z.output<typeof QatConfig>;

/** The student's shape; a field left out is the teacher's. */
export const StudentShape = z.object({
  nLayers: z.number().int().min(1).optional(),
  dModel: z.number().int().min(8).optional(),
  nHeads: z.number().int().min(1).optional(),
  dFF: z.number().int().min(8).optional(),
}).strict();

export const DistillConfig = z.object({
  method: z.literal('distill'),
  /** default: half the teacher's layers, the rest as the teacher */
  student: StudentShape.prefault({}),
  init: z.enum(['teacher-layers', 'random']).default('teacher-layers').describe('teacher-layers: every other teacher layer where shapes allow (DistilBERT)'),
  temperature: z.number().positive().default(2),
  /** DistilBERT's weights: soft targets 5.0, the hard objective 2.0, hidden-state cosine 1.0 */
  weights: z.object({
    soft: z.number().min(0).default(5),
    hard: z.number().min(0).default(2),
    cosine: z.number().min(0).default(1),
    attention: z.number().min(0).default(0),
  }).strict().prefault({}),
  loop: trainLoopConfig({ steps: 500, batchSize: 12, lr: 1e-3, minLr: 1e-4, warmupSteps: 50, evalInterval: 100, weightDecay: 0.1 }).prefault({}),
}).strict();

export const PruneConfig = z.object({
  method: z.literal('prune'),
  kind: z.enum(['magnitude', 'heads']).default('heads'),
  /** magnitude: the share of weights zeroed at the end of the schedule */
  sparsity: z.number().gt(0).lt(1).default(0.5),
  /** magnitude: sparsity rises as s·(1 − (1 − t/(ramp·steps))³) (Zhu & Gupta 2017), then the rest of the steps fine-tune at s */
  ramp: z.number().gt(0).max(1).default(0.75).describe('magnitude: the share of the steps over which sparsity rises to its target'),
  maskEvery: z.number().int().min(1).default(10).describe('magnitude: recompute the masks every this many steps'),
  /** heads: the share of all attention heads removed */
  headShare: z.number().gt(0).lt(1).default(0.25),
  importance: z.enum(['gradient', 'attention']).default('gradient').describe('gradient: Michel et al.\'s head-mask gradient; attention: the inspect statistics'),
  loop: trainLoopConfig({ steps: 200, batchSize: 12, lr: 3e-4, minLr: 3e-5, warmupSteps: 20, evalInterval: 50 }).prefault({}),
}).strict();

export type StudentShape = z.output<typeof StudentShape>;
export type DistillConfig = z.output<typeof DistillConfig>;
export type PruneConfig = z.output<typeof PruneConfig>;

export const CompressConfig = z.discriminatedUnion('method', [Int8Config, QatConfig, DistillConfig, PruneConfig]);
export type CompressConfig = z.output<typeof CompressConfig>;
export type CompressConfigInput = z.input<typeof CompressConfig>;
export const COMPRESS_METHODS = ['int8', 'qat', 'distill', 'prune'] as const satisfies readonly CompressConfig['method'][];
