/**
 * What one kind of training brings to the training loop (./trainingLoop.ts): its model, the weights it
 * trains, its batches and loss, its evaluation. The loop brings the rest — AdamW on a schedule, gradient
 * accumulation and clipping, diagnostics, metrics and TensorBoard, checkpoints, pause / resume / stop, the
 * run folder and the dashboards' events — the same for every task. Pretraining is ./pretrainTask.ts;
 * fine-tuning, distillation and quantization-aware training plug in the same way, each with its own loss,
 * its own trainable subset and a model opened with engine/runs/loadRunModel.ts.
 */
import type { HeadStats } from '../../common/attentionMaps';
import type { EvalResult } from '../../common/runEvents';
import type { PretrainConfig } from '../../common/pretrainConfig';
import type { TrainLoopConfig } from '../../common/trainLoopConfig';
import type { AnyModel } from '../models/registry';
import type { Rng } from '../util/random';
import type { AdamWConfig } from './adamw';
import type { LrSchedule } from './schedule';
import type { Gradients } from './trainStep';

export interface AttentionProbeResult {
  stats: HeadStats;
  /** held-out sequences of the probe set, and their length */
  sequences: number;
  seqLen: number;
}

export interface TrainingTask {
  readonly model: AnyModel;
  /** the parameters the optimizer updates, by name; the others stay as loaded (all of them, for pretraining) */
  readonly trainable: readonly string[];
  /** tokens one optimizer step consumes, all micro-batches together */
  readonly tokensPerStep: number;
  /**
   * One optimizer step's mean loss and gradients over `microBatches` micro-batches drawn with `rng` (whose
   * state is the data position a checkpoint records); dropout masks come from `dropoutSeed`, so a resumed
   * run repeats the uninterrupted one exactly.
   */
  gradients(rng: Rng, microBatches: number, dropoutSeed: number): Gradients;
  /** the same fixed batches at every evaluation: a training-loss estimate and the validation figures (it lets the event loop through between batches); `step` is the step just trained */
  evaluate(step: number): Promise<{ train: EvalResult; val: EvalResult }>;
  /**
   * Per-head attention statistics on a probe set fixed at run start, measured after each evaluation (the
   * attention time-lapse); it draws nothing from the data RNG, so a resumed run stays exact. Optional.
   */
  probeAttention?(): AttentionProbeResult;
  /**
   * Called after each optimizer step (`step`: the steps done): puts back what the update may have broken (a
   * pruning mask) and returns the task's own scalars, logged with the step (the parts of a distillation loss,
   * the sparsity reached). Optional.
   */
  afterStep?(step: number): Record<string, number> | void;
  /** frees the model and the data's tensors */
  dispose(): void;
}

/** How the loop trains, whatever the task: the fields every training config shares with the pretrain cell's. */
export interface LoopSettings {
  /** optimizer steps in all (a resumed run trains up to it) */
  steps: number;
  /** dropout masks and data order derive from it */
  seed: number;
  gradAccumSteps: number;
  optimizer: Omit<AdamWConfig, 'lr'>;
  schedule: LrSchedule;
  /** global-norm clipping; 0 or undefined: none */
  clipNorm?: number;
  evalInterval: number;
  checkpointInterval: number;
  keepCheckpoints: number;
}

/** The loop's settings of a pretrain cell's config, or of a derived run's loop config (the same fields). */
export function loopSettings(p: PretrainConfig | TrainLoopConfig): LoopSettings {
  const s = p.schedule;
  const schedule: LrSchedule = s.kind === 'constant'
    ? { kind: 'constant', lr: p.optimizer.lr, warmupIters: s.warmupSteps }
    : { kind: s.kind, lr: p.optimizer.lr, minLr: s.minLr, warmupIters: s.warmupSteps, decayIters: s.decaySteps ?? p.steps };
  const { lr: _lr, ...optimizer } = p.optimizer;
  return {
    steps: p.steps, seed: p.seed, gradAccumSteps: p.gradAccumSteps, optimizer, schedule, clipNorm: p.clipNorm || undefined,
    evalInterval: p.evalInterval, checkpointInterval: p.checkpointInterval, keepCheckpoints: p.keepCheckpoints,
  };
}
