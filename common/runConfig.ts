import { z } from 'zod';
import { DatasetConfig } from './datasetConfig';
import { EngineError } from './errors';
import { ModelCellConfig } from './experiment';
import { ModelConfig } from './modelConfig';
import { PretrainConfig } from './pretrainConfig';
import { TokenizerConfig } from './tokenizerConfig';
import { formatIssues, invalidConfig } from './zodIssues';

/**
 * run.json's `config`: what a run was started from, enough to rebuild it — the engine resumes it and opens
 * its model from it (engine/runs/loadRunModel.ts), the UI compares it with the cells it came from. A
 * snapshot of the experiment's cells, not a reference to them: editing the file later changes no run.
 */

/** A pretraining run's cells: the dataset cell's two configs, the model cell (vocabSize may be left to the tokenizer), the pretrain cell. */
export const PretrainRunSpec = z.object({
  name: z.string(),
  dataset: DatasetConfig,
  tokenizer: TokenizerConfig,
  model: ModelCellConfig,
  pretrain: PretrainConfig,
});
export type PretrainRunSpec = z.output<typeof PretrainRunSpec>;
export type PretrainRunSpecInput = z.input<typeof PretrainRunSpec>;

/**
 * The task a run trains, which tells how to read the rest. Only pretraining so far; fine-tuning, distillation
 * and quantization-aware training will join as other tasks. Runs written before `task` existed are pretraining.
 */
export const RunConfig = z.object({
  task: z.literal('pretrain').default('pretrain'),
  spec: PretrainRunSpec,
  /** the experiment file's folder when the run started: the dataset's relative paths resolve against it */
  baseDir: z.string(),
});
export type RunConfig = z.output<typeof RunConfig>;
export type RunConfigInput = z.input<typeof RunConfig>;

/** run.json's config, checked; INVALID_CONFIG naming `runJsonFile`, the field and the way out when it cannot be used. */
export function parseRunConfig(config: unknown, runJsonFile: string): RunConfig {
  const r = RunConfig.safeParse(config);
  if (r.success) return r.data;
  const task = (config as { task?: unknown } | null)?.task;
  if (task !== undefined && task !== 'pretrain') {
    throw new EngineError('INVALID_CONFIG', `${runJsonFile}: the run's task is ${JSON.stringify(task)}, which this Transformer Workbench does not know (it reads pretrain runs); update the workbench to open it`);
  }
  throw new EngineError('INVALID_CONFIG', `${runJsonFile}: its config is not a run this workbench can rebuild: ${formatIssues(r.error, { prefix: ['config'] })}; fix the field, or start a new run`);
}

/**
 * The model a run trains: its model cell with the vocabulary its tokenizer has when the cell leaves vocabSize
 * out. A cell's vocabSize below the tokenizer's is refused (ids past it would index no embedding row).
 */
export function runModelConfig(model: z.output<typeof ModelCellConfig>, tokenizerVocab: number): ModelConfig {
  if (model.vocabSize !== undefined && model.vocabSize < tokenizerVocab) {
    throw new EngineError('INVALID_CONFIG', `model.vocabSize ${model.vocabSize} is smaller than the tokenizer's vocabulary of ${tokenizerVocab}; remove vocabSize from the model cell to take the tokenizer's`, ['model', 'vocabSize']);
  }
  const r = ModelConfig.safeParse({ ...model, vocabSize: model.vocabSize ?? tokenizerVocab });
  if (!r.success) throw invalidConfig(r.error, ['model']);
  return r.data;
}

/** run.json's config for a reader that shows runs (the UI): the parsed config, or null when it cannot be read. */
export function runConfigOf(run: { config: unknown }): RunConfig | null {
  const r = RunConfig.safeParse(run.config);
  return r.success ? r.data : null;
}
