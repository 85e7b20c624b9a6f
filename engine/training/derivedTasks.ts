/**
 * The training tasks of runs that start from another run's checkpoint (common/runConfig.ts
 * `DerivedRunConfig`): fine-tuning, quantization-aware training, distillation, pruning. Each kind says how
 * its config trains (the loop's settings) and prepares its task (./task.ts); the trainer (./trainer.ts)
 * starts and resumes them all alike. A new kind of derived run adds one case here.
 */
import type { BackendName } from '../../common/backends';
import type { ModelConfig } from '../../common/modelConfig';
import type { DerivedRunConfig } from '../../common/runConfig';
import type { RunEvent } from '../../common/runEvents';
import type { TrainLoopConfig } from '../../common/trainLoopConfig';
import type { RunFolder } from '../runs/runFolder';
import type { TrainingTask } from './task';
import { domainAdaptation } from '../finetune/domainTask';
import { qatTask } from '../compression/qatTask';
import { distillKind } from '../compression/distillTask';
import { pruneKind } from '../compression/pruneTask';
import { classificationKind } from '../finetune/classificationKind';

export interface DerivedTaskContext {
  /** the new run's folder; its tokenizer.json is already the base's */
  run: RunFolder;
  backend: BackendName;
  /**
   * true when the run is being resumed: its weights come from its own newest checkpoint right after, so the
   * task need not (and, when the base run has gone since, cannot) load the base's
   */
  resuming: boolean;
  /** the tokenized-dataset cache; null: none; default the user cache */
  cacheDir?: string | null;
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
}

/** A derived run's config before its model is known: what the model will be can depend on the rest (a classifier's labels, a student's shape). */
export type DerivedRunHead = DistributiveOmit<DerivedRunConfig, 'model'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface DerivedTaskKind<C extends DerivedRunConfig = DerivedRunConfig> {
  /** the model the run trains, from its base's (default: the base's own) */
  modelOf?(config: DistributiveOmit<C, 'model'>, base: ModelConfig): Promise<ModelConfig>;
  /** how the run trains: its loop config */
  loop(config: C): TrainLoopConfig;
  /** the task: model (base weights loaded unless resuming), trainable subset, batches, loss, evaluation */
  prepare(config: C, ctx: DerivedTaskContext): Promise<TrainingTask>;
}

/** The kind that trains `config`, or null for a derived run that trains nothing (int8 quantization: one pass, no loop). */
export function derivedTaskOf(config: DerivedRunHead): DerivedTaskKind | null {
  switch (config.task) {
    case 'finetune':
      switch (config.finetune.data.kind) {
        case 'brown-genre': case 'jsonl': return classificationKind as unknown as DerivedTaskKind;
        case 'domain': return domainAdaptation;
      }
      break;
    case 'compress':
      switch (config.compress.method) {
        case 'int8': return null;
        case 'qat': return qatTask as DerivedTaskKind;
        case 'distill': return distillKind as DerivedTaskKind;
        case 'prune': return pruneKind as DerivedTaskKind;
      }
  }
}
