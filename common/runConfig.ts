import { z } from 'zod';
import { CompressConfig } from './compressConfig';
import { DatasetConfig } from './datasetConfig';
import { EngineError } from './errors';
import { ModelCellConfig } from './experiment';
import { FinetuneConfig } from './finetuneConfig';
import { ModelConfig } from './modelConfig';
import { Objective, PretrainConfig } from './pretrainConfig';
import { CheckpointName } from './runFolder';
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

/** Who trained a run other than the workbench's engine: the PyTorch project of `workbench export-torch`. */
export const TrainedBy = z.object({
  engine: z.literal('pytorch'),
  version: z.string(),
  processes: z.number().int().min(1),
  strategy: z.enum(['single', 'ddp', 'zero1', 'fsdp']),
  precision: z.enum(['fp32', 'bf16', 'fp16']),
  device: z.string(),
  /** the experiment's pretrain cell it was exported from: the notebook shows the run among that cell's runs */
  cellId: z.string().optional(),
}).strict();
export type TrainedBy = z.output<typeof TrainedBy>;

/** A pretraining run: the experiment's cells it was started from. */
export const PretrainRunConfig = z.object({
  task: z.literal('pretrain'),
  spec: PretrainRunSpec,
  /** the experiment file's folder when the run started: the dataset's relative paths resolve against it */
  baseDir: z.string(),
  /** absent: the workbench trained it */
  trainedBy: TrainedBy.optional(),
}).strict();

/** A file of the folder a model was imported from, as it was when read. */
const SourceFile = z.object({ file: z.string(), bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict();

/**
 * A model brought in from another tool's checkpoint folder (`workbench import`): no training of its own, one
 * checkpoint holding the imported weights, the folder's tokenizer, and the model config read from its
 * config.json. Everything that opens a trained model opens it alike.
 */
export const ImportRunConfig = z.object({
  task: z.literal('import'),
  source: z.object({
    format: z.literal('huggingface'),
    /** the folder as given, made absolute */
    dir: z.string(),
    modelType: z.enum(['gpt2', 'bert']),
    /** config.json's architectures[0], e.g. GPT2LMHeadModel */
    architecture: z.string(),
    files: z.array(SourceFile),
  }).strict(),
  model: ModelConfig,
  /** what the import filled in or left out, said once so that every reader can show it */
  notes: z.array(z.string()),
}).strict();

/**
 * The run and checkpoint a derived run (fine-tuned, compressed) started from, as they were then. The base's
 * tokenizer is copied into the derived run, so the derived run opens without its base; the reference is for
 * lineage (the comparison view, the model card) and is not needed to open it.
 */
export const BaseRunRef = z.object({
  /** the base run's folder, absolute */
  runDir: z.string(),
  runId: z.string(),
  checkpoint: CheckpointName,
  step: z.number().int().min(0),
  /** what the base was trained for, so that a variant evaluates and exports as its base does */
  objective: Objective.optional(),
}).strict();
export type BaseRunRef = z.output<typeof BaseRunRef>;

/** A trained model adapted to a task or a domain (common/finetuneConfig.ts); `model` is the model it trains, a classifier's numLabels set. */
export const FinetuneRunConfig = z.object({
  task: z.literal('finetune'),
  base: BaseRunRef,
  model: ModelConfig,
  finetune: FinetuneConfig,
}).strict();

/** A smaller or faster variant of a trained model (common/compressConfig.ts); `model` is the variant's (a distilled student's, a pruned model's). */
export const CompressRunConfig = z.object({
  task: z.literal('compress'),
  base: BaseRunRef,
  model: ModelConfig,
  compress: CompressConfig,
}).strict();

/**
 * The task a run trains, which tells how to read the rest: pretraining, a model imported from elsewhere, a
 * fine-tuned or a compressed variant of another run. Runs written before `task` existed are pretraining.
 */
export const RunConfig = z.preprocess(
  (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) && !('task' in v) ? { ...v, task: 'pretrain' } : v),
  z.discriminatedUnion('task', [PretrainRunConfig, ImportRunConfig, FinetuneRunConfig, CompressRunConfig]),
);
export type RunConfig = z.output<typeof RunConfig>;
export type ImportRunConfig = z.output<typeof ImportRunConfig>;
export type FinetuneRunConfig = z.output<typeof FinetuneRunConfig>;
export type CompressRunConfig = z.output<typeof CompressRunConfig>;
/** A run that starts from another run's checkpoint. */
export type DerivedRunConfig = FinetuneRunConfig | CompressRunConfig;
export const RUN_TASKS = ['pretrain', 'import', 'finetune', 'compress'] as const satisfies readonly RunConfig['task'][];

/** run.json's config, checked; INVALID_CONFIG naming `runJsonFile`, the field and the way out when it cannot be used. */
export function parseRunConfig(config: unknown, runJsonFile: string): RunConfig {
  const r = RunConfig.safeParse(config);
  if (r.success) return r.data;
  const task = (config as { task?: unknown } | null)?.task;
  if (task !== undefined && !RUN_TASKS.includes(task as never)) {
    throw new EngineError('INVALID_CONFIG', `${runJsonFile}: the run's task is ${JSON.stringify(task)}, which this Transformer Workbench does not know (it reads ${RUN_TASKS.join(' and ')} runs); update the workbench to open it`);
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

/** The model of any run: a pretraining run's model cell with its tokenizer's vocabulary, or the config an imported or derived run records. */
export function modelConfigOfRun(config: RunConfig, tokenizerVocab: number): ModelConfig {
  if (config.task === 'pretrain') return runModelConfig(config.spec.model, tokenizerVocab);
  if (config.model.vocabSize < tokenizerVocab) {
    const fix = config.task === 'import' ? 'import it again from a folder whose config.json and tokenizer.json agree' : 'its tokenizer.json is not its base run\'s; start the run again from its base';
    throw new EngineError('INVALID_CONFIG', `the model's vocabSize ${config.model.vocabSize} is smaller than its tokenizer's vocabulary of ${tokenizerVocab}; ${fix}`);
  }
  return config.model;
}

/** The model's architecture and context of any run (its model cell, or an imported model's config), for views that size themselves to it. */
export function modelOfRun(config: RunConfig | null): { arch: 'gpt' | 'bert'; contextLength: number } | undefined {
  if (!config) return undefined;
  const m = config.task === 'pretrain' ? config.spec.model : config.model;
  return { arch: m.arch, contextLength: m.contextLength };
}

/**
 * The objective a run's model was trained for: a pretraining run's; for a model imported from elsewhere,
 * what its architecture says (a BertForPreTraining has a next-sentence head); for a derived run, its base's.
 */
export function objectiveOfRun(config: RunConfig): Objective | undefined {
  if (config.task === 'pretrain') return config.spec.pretrain.objective;
  if (config.model.arch === 'gpt') return 'causal-lm';
  if (config.task === 'import') return config.source.architecture === 'BertForPreTraining' ? 'mlm-nsp' : 'mlm';
  return config.base.objective;
}

/** A pretraining run's cells, or undefined for a run of another task (an imported model has none). */
export function pretrainSpecOf(config: RunConfig | null): PretrainRunSpec | undefined {
  return config?.task === 'pretrain' ? config.spec : undefined;
}

/** The steps a run plans: its pretrain cell's, or a fine-tune's or compression's loop; null for an import or a one-pass int8 variant. */
export function plannedStepsOf(config: RunConfig | null): number | null {
  if (!config || config.task === 'import') return null;
  if (config.task === 'pretrain') return config.spec.pretrain.steps;
  if (config.task === 'finetune') return config.finetune.loop.steps;
  return 'loop' in config.compress ? config.compress.loop.steps : null;
}

/**
 * What a run was configured with, for comparing runs side by side: a pretraining run's cells; for any other
 * task its whole config (base, model and the task's settings), so that a full and a LoRA fine-tune differ.
 */
export function comparableConfigOf(config: RunConfig | null): unknown {
  if (!config) return undefined;
  return config.task === 'pretrain' ? config.spec : config;
}

/** run.json's config for a reader that shows runs (the UI): the parsed config, or null when it cannot be read. */
export function runConfigOf(run: { config: unknown }): RunConfig | null {
  const r = RunConfig.safeParse(run.config);
  return r.success ? r.data : null;
}
