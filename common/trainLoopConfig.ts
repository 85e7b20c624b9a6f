import { z } from 'zod';
import { OptimizerConfig, ScheduleConfig, scheduleFitsRun } from './pretrainConfig';

/**
 * How a run that starts from a trained model trains — fine-tuning, distillation, quantization-aware training,
 * pruning with a fine-tune: the loop's fields of the pretrain cell (engine/training/task.ts `loopSettings`
 * reads either), with defaults that suit a short run from a checkpoint rather than pretraining from scratch.
 * The data, the objective and what trains are the task's own config.
 */
export interface LoopDefaults {
  steps: number;
  batchSize: number;
  lr: number;
  minLr: number;
  warmupSteps: number;
  evalInterval: number;
  /** default 0.01, the fine-tuning recipes' (BERT, LoRA) rather than pretraining's 0.1 */
  weightDecay?: number;
}

export function trainLoopConfig(d: LoopDefaults) {
  return z.object({
    steps: z.number().int().min(1).default(d.steps).describe('optimizer steps'),
    batchSize: z.number().int().min(1).default(d.batchSize).describe('sequences per micro-batch'),
    gradAccumSteps: z.number().int().min(1).default(1).describe('micro-batches summed into one optimizer step'),
    optimizer: OptimizerConfig.default(OptimizerConfig.parse({ lr: d.lr, weightDecay: d.weightDecay ?? 0.01 })),
    schedule: ScheduleConfig.default(ScheduleConfig.parse({ warmupSteps: d.warmupSteps, minLr: d.minLr })),
    clipNorm: z.number().min(0).default(1).describe('clip the global gradient norm to this; 0 turns clipping off'),
    evalInterval: z.number().int().min(1).default(d.evalInterval).describe('evaluate every this many steps (and at the end)'),
    evalBatches: z.number().int().min(1).default(8).describe('validation batches per evaluation'),
    checkpointInterval: z.number().int().min(1).default(d.steps).describe('checkpoint every this many steps (plus best and last)'),
    keepCheckpoints: z.number().int().min(1).default(2).describe('periodic checkpoints kept on disk (best and last are always kept)'),
    seed: z.number().int().min(0).default(1337),
  }).strict().superRefine(scheduleFitsRun);
}
export type TrainLoopConfig = z.output<ReturnType<typeof trainLoopConfig>>;
