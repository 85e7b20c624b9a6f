import { z } from 'zod';
import { FinetuneConfig } from './finetuneConfig';
import { CheckpointRef } from './inspect';
import { RunId } from './runFolder';

/**
 * The notebook's fine-tune cell: a base run of this experiment and its checkpoint, and the fine-tune settings
 * (common/finetuneConfig.ts) a Run starts a derived run with (WorkbenchApi `runs.derive`). The runs it started
 * are listed in the cell like a pretrain cell's (common/experiment.ts adds them).
 */
export const FinetuneCellFields = z.object({
  /** a run of this experiment (NAME.runs/RUN_ID) */
  baseRunId: RunId.optional(),
  checkpoint: CheckpointRef.default('last'),
  finetune: FinetuneConfig,
});
export type FinetuneCellFields = z.output<typeof FinetuneCellFields>;
