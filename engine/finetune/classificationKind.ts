/**
 * Fine-tuning a trained model into a sequence classifier (data 'brown-genre' or 'jsonl'), as a kind of
 * derived run (engine/training/derivedTasks.ts): the model is the base's with a head of one output per
 * label; the weights are the base checkpoint's (or, init 'scratch', the base's architecture freshly
 * initialised: the baseline a pretrained model must beat); every weight trains (method 'full') or only the
 * LoRA adapters and the head (method 'lora'). The data split and its class balance, and the trainable share,
 * are stated in the run log before the first step.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { CLASSIFICATION_REPORT_FILE } from '../../common/classificationReport';
import { EngineError } from '../../common/errors';
import type { ClassificationData, FinetuneConfig } from '../../common/finetuneConfig';
import { TOKENIZER_FILE } from '../../common/node/runFiles';
import type { ModelConfig } from '../../common/modelConfig';
import type { FinetuneRunConfig } from '../../common/runConfig';
import { createModel, type AnyModel } from '../models/registry';
import { loadTokenizer, type Tokenizer } from '../tokenizers';
import type { DerivedTaskContext, DerivedTaskKind } from '../training/derivedTasks';
import { checkMemory } from '../training/memoryBudget';
import { loadBaseWeights } from './baseWeights';
import { BROWN_GENRE_LABELS, brownGenreSplit } from './brownGenreTask';
import { describeBalance, evenlySpaced, framingTokens, type ClassificationSplit } from './classificationData';
import { ClassifierTask } from './classifierTask';
import { jsonlSplit, readJsonlTask } from './jsonlTask';
import { classifierTrainable, describeTrainable } from './trainable';

type ClassifierConfig = FinetuneRunConfig & { finetune: FinetuneConfig & { data: ClassificationData } };

/** The labels of a classification task: Brown's 15 genres, or those a JSON Lines file holds. */
export async function taskLabels(data: ClassificationData, signal?: AbortSignal): Promise<string[]> {
  return data.kind === 'brown-genre' ? [...BROWN_GENRE_LABELS] : (await readJsonlTask(path.resolve(data.file), signal)).labels;
}

/** Tokens an example may take: passageTokens where given, the model's context otherwise (never more). */
export function contextTokens(data: ClassificationData, model: ModelConfig): number {
  const want = data.kind === 'brown-genre' ? data.passageTokens ?? model.contextLength : model.contextLength;
  if (want > model.contextLength) {
    throw new EngineError('INVALID_CONFIG', `passageTokens ${want} exceeds the model's contextLength ${model.contextLength}; give at most ${model.contextLength}`, ['finetune', 'data', 'passageTokens']);
  }
  return want;
}

export async function classificationSplit(data: ClassificationData, tokenizer: Tokenizer, model: ModelConfig, seed: number, signal?: AbortSignal): Promise<ClassificationSplit> {
  const tokens = contextTokens(data, model);
  if (data.kind === 'jsonl') return jsonlSplit(data.file, tokenizer, { arch: model.arch, contextTokens: tokens, testShare: data.testShare, seed, signal });
  return brownGenreSplit(tokenizer, { bodyTokens: tokens - framingTokens(model.arch, false), testShare: data.testShare, seed, passagesPerDocument: data.passagesPerDocument, signal });
}

export const classificationKind: DerivedTaskKind<ClassifierConfig> = {
  async modelOf(config, base) {
    const labels = await taskLabels(config.finetune.data);
    contextTokens(config.finetune.data, base);
    return { ...base, numLabels: labels.length };
  },

  loop: (config) => config.finetune.loop,

  async prepare(config, ctx) {
    const ft = config.finetune;
    const emit = ctx.onEvent ?? (() => {});
    const log = (message: string) => emit({ type: 'log', level: 'info', message });
    checkMemory(config.model, ft.loop.batchSize, contextTokens(ft.data, config.model), ctx.backend);
    const tokenizer = loadTokenizer(path.join(ctx.run.dir, TOKENIZER_FILE));
    emit({ type: 'progress', phase: 'preparing the classification data', done: 0, total: 1 });
    const split = await classificationSplit(ft.data, tokenizer, config.model, ft.loop.seed, ctx.signal);
    if (split.labels.length !== config.model.numLabels) {
      throw new EngineError('INVALID_CONFIG', `${ctx.run.dir}: the model has ${config.model.numLabels} labels but the task now has ${split.labels.length} (${ft.data.kind === 'jsonl' ? `${ft.data.file} changed since the run started` : 'the corpus changed'}); start a new run`, ['finetune', 'data']);
    }
    log(describeBalance(split.balance));
    const evalSet = evenlySpaced(split.test, ft.maxEvalExamples);
    log(`each evaluation classifies ${evalSet.length} of the ${split.test.length} test examples${evalSet.length < split.test.length ? ' (evenly spaced; raise maxEvalExamples for all)' : ''}; per-class figures and the confusion matrix go to ${CLASSIFICATION_REPORT_FILE}`);
    await fs.mkdir(path.dirname(path.join(ctx.run.dir, CLASSIFICATION_REPORT_FILE)), { recursive: true });
    const model = await openModel(config, ctx, log);
    try {
      const trainable = await classifierTrainable(model, ft, ft.loop.seed);
      log(describeTrainable(model, trainable));
      const trainSample = evenlySpaced(split.train, ft.loop.evalBatches * ft.loop.batchSize);
      return new ClassifierTask({ model, split, trainable, batchSize: ft.loop.batchSize, specials: tokenizer.specialIds, trainSample, evalSet, runDir: ctx.run.dir }, ft.loop.gradAccumSteps);
    } catch (err) {
      model.dispose();
      throw err;
    }
  },
};

/** The model with the base's weights (unless scratch, or resuming: the run's own checkpoint then comes next). */
async function openModel(config: ClassifierConfig, ctx: DerivedTaskContext, log: (m: string) => void): Promise<AnyModel> {
  const model = createModel(config.model, config.finetune.loop.seed);
  if (ctx.resuming) return model;
  try {
    if (config.finetune.init === 'scratch') {
      log(`init 'scratch': the model has ${config.base.runId}'s architecture and tokenizer, and freshly initialised weights (the baseline)`);
      return model;
    }
    const fresh = await loadBaseWeights(model, config.base);
    log(`weights from ${config.base.runId} ${config.base.checkpoint} (step ${config.base.step}); initialised afresh: ${fresh.join(', ') || 'none'}`);
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  }
}
