/**
 * What the compression runs that train (distillation, pruning) take from their base: its model at the
 * recorded checkpoint (the teacher, or the model to prune) and its pretraining data with its held-out split
 * (../training/baseData.ts), in the run's loop's batch shape.
 */
import path from 'node:path';
import { EngineError } from '../../common/errors';
import { TOKENIZER_FILE } from '../../common/node/runFiles';
import type { CompressRunConfig } from '../../common/runConfig';
import type { TrainLoopConfig } from '../../common/trainLoopConfig';
import { loadRunModel, type RunModel } from '../runs/loadRunModel';
import { prepareBaseData, type BaseData } from '../training/baseData';
import type { DerivedTaskContext } from '../training/derivedTasks';

/** The base's model at the checkpoint the run records; INVALID_CONFIG naming the base when it cannot be opened (moved, deleted). */
export async function openBaseModel(config: CompressRunConfig, why: string): Promise<RunModel> {
  try {
    return await loadRunModel(config.base.runDir, config.base.checkpoint);
  } catch (err) {
    throw new EngineError('INVALID_CONFIG', `the base run ${config.base.runDir} (checkpoint ${config.base.checkpoint}) cannot be opened: ${(err as Error).message}; ${why}, so put the base run back where it was, or start a new run from a base that exists`, ['base', 'runDir']);
  }
}

/** The base's pretraining data in the loop's batch shape, tokenized with the run's copy of the base's tokenizer. */
export function openBaseData(config: CompressRunConfig, loop: TrainLoopConfig, ctx: DerivedTaskContext): Promise<BaseData> {
  return prepareBaseData(config.base.runDir, {
    batchSize: loop.batchSize, evalBatches: loop.evalBatches, seed: loop.seed, tokenizerFile: path.join(ctx.run.dir, TOKENIZER_FILE),
    cacheDir: ctx.cacheDir, onEvent: ctx.onEvent, signal: ctx.signal,
  });
}
