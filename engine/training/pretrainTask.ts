/**
 * Pretraining as a task of the training loop (./task.ts): the experiment's dataset cell becomes batches of
 * the objective (causal LM, MLM, MLM + NSP), its model cell a freshly initialised model whose every weight
 * trains, and evaluation measures the objective on fixed batches. Planning comes first and needs the
 * configs alone, so that an impossible run is refused before a run folder or a tensor exists.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../../common/backends';
import { EngineError } from '../../common/errors';
import { ModelConfig } from '../../common/modelConfig';
import { defaultObjective, pretrainModelIssues, type Objective } from '../../common/pretrainConfig';
import { runModelConfig, type PretrainRunSpec } from '../../common/runConfig';
import type { RunEvent } from '../../common/runEvents';
import type { TokenizerConfig } from '../../common/tokenizerConfig';
import { createModel, type AnyModel } from '../models/registry';
import type { Rng } from '../util/random';
import { evaluate } from './evaluate';
import { checkMemory } from './memoryBudget';
import { prepareData, toBatch, type PreparedData } from './pretrainData';
import { attentionProbeSet, measureHeads, type AttentionProbeSet } from '../inspect/attentionMaps';
import type { AttentionProbeResult, TrainingTask } from './task';
import { computeGradients, type Gradients } from './trainStep';

/** What a pretraining run will do, checked from its configs alone. */
export interface PretrainPlan {
  spec: PretrainRunSpec;
  objective: Objective;
  seqLen: number;
  /** the vocabulary the memory check assumed; a tokenizer that comes out larger is checked again */
  checkedVocab: number;
}

/** The vocabulary a tokenizer will have, before it is trained: its configured size (characters: a byte's worth). */
const vocabGuess = (t: TokenizerConfig): number => ('vocabSize' in t && typeof t.vocabSize === 'number' ? t.vocabSize : 256);

/**
 * The checks that need the model and pretrain cells together (each alone is checked by its schema): the
 * objective fits the architecture, the sequences fit the context, the model fits the backend's memory.
 */
export function planPretrain(spec: PretrainRunSpec, backend: BackendName): PretrainPlan {
  const p = spec.pretrain;
  const issue = pretrainModelIssues(p, spec.model)[0];
  if (issue) throw new EngineError('INVALID_CONFIG', issue.full, ['pretrain', issue.field]);
  const seqLen = p.seqLen ?? spec.model.contextLength;
  const guess = ModelConfig.safeParse({ ...spec.model, vocabSize: spec.model.vocabSize ?? vocabGuess(spec.tokenizer) });
  if (guess.success) checkMemory(guess.data, p.batchSize, seqLen, backend);
  return { spec, objective: p.objective ?? defaultObjective(spec.model.arch), seqLen, checkedVocab: guess.success ? guess.data.vocabSize : 0 };
}

export interface PreparePretrainOptions {
  backend: BackendName;
  /** the run's tokenizer.json: written after training the tokenizer, or (reuseTokenizer, on resume) loaded */
  tokenizerFile: string;
  reuseTokenizer: boolean;
  /** relative dataset paths resolve against this (the experiment file's folder) */
  baseDir?: string;
  /** the tokenized-dataset cache; null: none; default the user cache */
  cacheDir?: string | null;
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
}

/** Reads and tokenizes the data, then builds the model, initialised from the run's seed. */
export async function preparePretrain(plan: PretrainPlan, o: PreparePretrainOptions): Promise<PretrainTask> {
  const { spec, objective, seqLen } = plan;
  const p = spec.pretrain;
  const emit = o.onEvent ?? (() => {});
  if (p.mixedPrecision) {
    emit({ type: 'log', level: 'warning', message: `mixed precision was asked for, but TensorFlow.js has no float16 training kernels on ${o.backend}; this run trains in float32` });
  }
  const data = await prepareData(spec.dataset, spec.tokenizer, {
    objective, batchSize: p.batchSize, seqLen, maskProbability: p.maskProbability, evalBatches: p.evalBatches, seed: p.seed,
    baseDir: o.baseDir, cacheDir: o.cacheDir, tokenizerFile: o.tokenizerFile, reuseTokenizer: o.reuseTokenizer,
    onProgress: (pr) => emit({ type: 'progress', ...pr }), onWarning: (message) => emit({ type: 'log', level: 'warning', message }),
    onInfo: (message) => emit({ type: 'log', level: 'info', message }), signal: o.signal,
  });
  try {
    const config = runModelConfig(spec.model, data.tokenizer.vocabSize);
    if (config.vocabSize > plan.checkedVocab) checkMemory(config, p.batchSize, seqLen, o.backend);
    // tokens a step consumes, by the length of the batches the data makes
    return new PretrainTask(createModel(config, p.seed), data, objective, p.batchSize * data.validation[0].T * p.gradAccumSteps, p.seed);
  } catch (err) {
    data.close();
    throw err;
  }
}

export class PretrainTask implements TrainingTask {
  readonly trainable: readonly string[];

  private probe: AttentionProbeSet | null = null;

  constructor(readonly model: AnyModel, protected readonly data: PreparedData, protected readonly objective: Objective, readonly tokensPerStep: number, private readonly seed: number) {
    this.trainable = model.params.names;
  }

  gradients(rng: Rng, microBatches: number, dropoutSeed: number): Gradients {
    const batches = Array.from({ length: microBatches }, () => toBatch(this.data.trainBatch(rng)));
    try {
      return computeGradients(this.model, batches, this.objective, dropoutSeed);
    } finally {
      batches.forEach((b) => tf.dispose(Object.values(b)));
    }
  }

  async evaluate() {
    return { train: await evaluate(this.model, this.data.trainSample, this.objective), val: await evaluate(this.model, this.data.validation, this.objective) };
  }

  /** The first held-out sequences of the validation set and, for causal models, the induction probe of the run's seed. */
  probeAttention(): AttentionProbeResult {
    this.probe ??= attentionProbeSet(this.model.config, this.data.tokenizer, this.data.validation[0], this.seed);
    return { stats: measureHeads(this.model, this.probe.sequences, this.probe.induction), sequences: this.probe.sequences.B, seqLen: this.probe.sequences.T };
  }

  dispose(): void {
    this.data.close();
    this.model.dispose();
  }
}
