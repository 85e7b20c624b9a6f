/**
 * A derived run's config (common/runConfig.ts `DerivedRunConfig`) from what a cell or the command line says:
 * the base run and checkpoint as given ('last', 'best', step-N) are opened through the one door
 * (loadRunModel), checked, and recorded as they are now — the checkpoint's real name and step, the base's
 * objective — so that the run.json says exactly what the run started from.
 */
import { EngineError } from '../../common/errors';
import { CompressConfig } from '../../common/compressConfig';
import { FinetuneConfig } from '../../common/finetuneConfig';
import { objectiveOfRun, type BaseRunRef, type DerivedRunConfig } from '../../common/runConfig';
import { invalidConfig } from '../../common/zodIssues';
import { loadRunModel, type CheckpointChoice } from '../runs/loadRunModel';
import { defaultObjective } from '../../common/pretrainConfig';
import { derivedTaskOf, type DerivedRunHead } from './derivedTasks';

export interface DerivedRunRequest {
  task: 'finetune' | 'compress';
  baseRunDir: string;
  baseCheckpoint: CheckpointChoice;
  /** the fine-tune or compress settings, unchecked (a cell's config, the command line's flags) */
  settings: unknown;
}

export async function resolveDerivedRun(req: DerivedRunRequest): Promise<DerivedRunConfig> {
  const schema = req.task === 'finetune' ? FinetuneConfig : CompressConfig;
  const parsed = schema.safeParse(req.settings);
  if (!parsed.success) throw invalidConfig(parsed.error, [req.task]);
  const rm = await loadRunModel(req.baseRunDir, req.baseCheckpoint);
  rm.model.dispose(); // only what the base is matters here; the task opens its weights itself
  if (rm.config.task === 'compress' && rm.config.compress.method === 'int8') {
    throw new EngineError('INVALID_CONFIG', `${rm.runDir}: is an int8 variant; fine-tune or compress its float base ${rm.config.base.runDir} instead`, ['base', 'runDir']);
  }
  const base: BaseRunRef = {
    runDir: rm.runDir, runId: rm.run.id, checkpoint: rm.checkpoint.name, step: rm.checkpoint.step,
    objective: objectiveOfRun(rm.config) ?? defaultObjective(rm.modelConfig.arch),
  };
  const head = (req.task === 'finetune'
    ? { task: 'finetune', base, finetune: parsed.data as FinetuneConfig }
    : { task: 'compress', base, compress: parsed.data as CompressConfig }) as DerivedRunHead;
  const kind = derivedTaskOf(head);
  const model = kind?.modelOf ? await kind.modelOf(head, rm.modelConfig) : rm.modelConfig;
  return { ...head, model } as DerivedRunConfig;
}
