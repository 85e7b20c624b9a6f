import { z } from 'zod';
import { EvalResult } from './runEvents';

/**
 * What a distillation or pruning run writes about itself beside its metrics, for the comparison view and the
 * compress cell to show: the teacher's figures next to the student's (distillation.json), the per-head
 * importance and what the cut removed (pruning.json, heads), the sparsity reached (pruning.json, magnitude).
 */

export const DISTILLATION_FILE = 'distillation.json';
export const PRUNING_FILE = 'pruning.json';

/** A layer × head grid. */
const Grid = z.array(z.array(z.number()));

export const DistillationFile = z.object({
  teacher: z.object({ runDir: z.string(), checkpoint: z.string(), parameters: z.number().int(), nLayers: z.number().int(), val: EvalResult }).strict(),
  student: z.object({
    parameters: z.number().int(),
    nLayers: z.number().int(),
    init: z.enum(['teacher-layers', 'random']),
    /** student layer i → the teacher layer it was copied from */
    initLayers: z.array(z.number().int()).optional(),
    copied: z.number().int().optional(),
    /** weights left random, each with the reason */
    random: z.array(z.string()).optional(),
  }).strict(),
  /** student layer i → the teacher layer its hidden-state and attention losses compare with */
  layerMap: z.array(z.number().int()),
  weights: z.object({ soft: z.number(), hard: z.number(), cosine: z.number(), attention: z.number() }).strict(),
  temperature: z.number(),
}).strict();
export type DistillationFile = z.infer<typeof DistillationFile>;

/** Forward latency of one model: the median and the fastest round (the least disturbed by other load), and every round's time. */
export const LatencyFigure = z.object({ medianMs: z.number(), minMs: z.number(), samplesMs: z.array(z.number()) }).strict();
export type LatencyFigure = z.infer<typeof LatencyFigure>;

const Measured = z.object({ parameters: z.number().int(), val: EvalResult, latency: LatencyFigure }).strict();

export const HeadPruningFile = z.object({
  kind: z.literal('heads'),
  importance: z.object({ method: z.enum(['gradient', 'attention']), scores: Grid }).strict(),
  /** per layer, the base's heads kept and removed (indices) */
  kept: Grid,
  removed: Grid,
  /** the base, and the pruned model before its fine-tune: same process, same input */
  before: Measured,
  afterCut: Measured,
  latencyInput: z.object({ batch: z.number().int(), length: z.number().int(), backend: z.string() }).strict(),
}).strict();
export type HeadPruningFile = z.infer<typeof HeadPruningFile>;

export const MagnitudePruningFile = z.object({
  kind: z.literal('magnitude'),
  /** the step the masks were last set at */
  step: z.number().int(),
  target: z.number(),
  /** zeros over all pruned weights, and per block (layer.i) */
  sparsity: z.number(),
  layers: z.record(z.string(), z.number()),
  /** the matrices pruned */
  weights: z.array(z.string()),
}).strict();
export type MagnitudePruningFile = z.infer<typeof MagnitudePruningFile>;

export const PruningFile = z.discriminatedUnion('kind', [HeadPruningFile, MagnitudePruningFile]);
export type PruningFile = z.infer<typeof PruningFile>;
