/**
 * The one door to a trained model: every feature that uses one — attention maps, sampling, export, serving,
 * compression, fine-tuning — opens it here, from a run folder and a checkpoint name, and gets the model
 * with its weights, its tokenizer and its resolved configs. Runs that completed, were stopped, failed or
 * were killed open alike: only the checkpoint matters. What is wrong with a folder that cannot be opened
 * (no checkpoint yet, damaged weights, a config of a newer format) is said with the file and the way out.
 *
 * The weights come without the optimizer's moments (twice their size): a model opened here is used, not
 * trained further; a run resumes through the trainer.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../../common/backends';
import { EngineError } from '../../common/errors';
import type { ModelConfig } from '../../common/modelConfig';
import { RUN_JSON, TOKENIZER_FILE, readRunJson } from '../../common/node/runFiles';
import { modelConfigOfRun, parseRunConfig, type RunConfig } from '../../common/runConfig';
import { CheckpointName, type RunJson } from '../../common/runFolder';
import { activeBackend } from '../backends/select';
import { restoreRunWeights } from '../finetune/lora/openLoraRun';
import { createModel, type AnyModel } from '../models/registry';
import { loadTokenizer, type Tokenizer } from '../tokenizers';
import { checkMemory } from '../training/memoryBudget';
import { openInt8, type RunQuantization } from '../compression/int8Model';
import { dropTrainingAids } from '../compression/student';
import { checkpointsDir, latestValidCheckpoint, listCheckpoints, loadCheckpoint, readPointer, restoreCheckpoint, type LoadedCheckpoint } from './checkpoint';

/** 'last': the newest checkpoint that loads; 'best': the one with the best validation loss; or a checkpoint's folder name, step-<N>. */
export type CheckpointChoice = 'last' | 'best' | CheckpointName;

export interface RunModel {
  runDir: string;
  run: RunJson;
  /** what the run was started from */
  config: RunConfig;
  /** the model's config, its vocabulary resolved from the tokenizer */
  modelConfig: ModelConfig;
  model: AnyModel;
  tokenizer: Tokenizer;
  checkpoint: { name: string; step: number; valLoss: number | null };
  /** what was passed over on the way (a newer checkpoint that did not load), for the caller to show */
  notes: string[];
  /** an int8 variant's codes, scales and activation quantization (its model's activation view is set) */
  quantization?: RunQuantization;
}

export interface LoadRunModelOptions {
  /** the backend the model will run on, for the memory check; default the active one */
  backend?: BackendName;
}

const unusable = (message: string, field = 'runDir') => new EngineError('INVALID_CONFIG', message, [field]);

/** Opens `checkpoint` of the run in `runDir`: the model with those weights, its tokenizer, its configs. The caller disposes the model. */
export async function loadRunModel(runDir: string, checkpoint: CheckpointChoice = 'last', opts: LoadRunModelOptions = {}): Promise<RunModel> {
  const dir = path.resolve(runDir);
  const run = await readRunJson(dir).catch((err: Error) => { throw unusable(err.message); });
  const config = parseRunConfig(run.config, path.join(dir, RUN_JSON));
  const notes: string[] = config.task === 'import' ? [...config.notes] : [];
  const ck = await pickCheckpoint(dir, run, checkpoint, notes);
  const tokenizer = openTokenizer(dir);
  const modelConfig = modelConfigOfRun(config, tokenizer.vocabSize);
  checkMemory(modelConfig, 1, modelConfig.contextLength, opts.backend ?? activeBackend());
  const model = createModel(modelConfig, run.seed); // the seed only fills weights the checkpoint then replaces
  let quantization: RunQuantization | undefined;
  dropTrainingAids(ck.params);
  try {
    restoreRunWeights(config, model, () => restoreCheckpoint(ck, model.params));
    quantization = openInt8(config, ck, model);
  } catch (err) {
    model.dispose();
    if (err instanceof EngineError) throw err;
    throw unusable(`${(err as Error).message}; the run's config and its checkpoint ${ck.name} disagree`, 'checkpoint');
  }
  return { runDir: dir, run, config, modelConfig, model, tokenizer, checkpoint: { name: ck.name, step: ck.manifest.step, valLoss: ck.manifest.valLoss }, notes, ...(quantization ? { quantization } : {}) };
}

/** The checkpoint to open, loaded (weights only, their SHA-256 checked), or the reason there is none. */
async function pickCheckpoint(dir: string, run: RunJson, choice: CheckpointChoice, notes: string[]): Promise<LoadedCheckpoint> {
  if (choice === 'last') {
    // a killed run's last.json may trail its newest checkpoint, or name one a crash left damaged: the newest that loads wins
    const ck = await latestValidCheckpoint(dir, { optimizer: false, onSkip: (name, problem) => notes.push(`checkpoint ${name} skipped: ${problem}`) });
    if (ck) return ck;
    const found = (await listCheckpoints(dir)).length;
    throw unusable(found
      ? `${dir}: none of its ${found} checkpoint(s) loads (${notes.join('; ')}); resume the run to write a new one, or open another run`
      : `${dir}: has no checkpoint yet (the run is at step ${run.step} and ${run.status}; its first checkpoint comes at a checkpoint interval, an evaluation with a new best, a pause or its end); resume it to train to one`, 'checkpoint');
  }
  let name: string;
  if (choice === 'best') {
    const best = await readPointer(dir, 'best');
    if (!best) throw unusable(`${dir}: has no best checkpoint (checkpoints/best.json is missing or unreadable: no evaluation has finished yet); open 'last' instead`, 'checkpoint');
    name = best.checkpoint;
  } else {
    const r = CheckpointName.safeParse(choice);
    if (!r.success) throw unusable(`checkpoint '${choice}': give best, last or a checkpoint folder name such as step-00000100`, 'checkpoint');
    name = r.data;
  }
  const ckDir = path.join(checkpointsDir(dir), name);
  if (!fs.existsSync(ckDir)) {
    const have = (await listCheckpoints(dir)).map((c) => c.name);
    throw unusable(`${ckDir}: no such checkpoint; this run has ${have.length ? have.join(', ') : 'none yet'}`, 'checkpoint');
  }
  try {
    return await loadCheckpoint(ckDir, { optimizer: false });
  } catch (err) {
    throw unusable(`${(err as Error).message}`, 'checkpoint');
  }
}

function openTokenizer(dir: string): Tokenizer {
  const file = path.join(dir, TOKENIZER_FILE);
  try {
    return loadTokenizer(file);
  } catch (err) {
    if (!fs.existsSync(file)) throw unusable(`${file}: missing; the run stopped before its tokenizer was saved, so it has no model to open`);
    throw unusable(`${(err as Error).message.split('\n')[0]}; the run's tokenizer is damaged: its model cannot be read without it`);
  }
}
