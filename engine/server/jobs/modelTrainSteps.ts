/**
 * `model.trainSteps`: builds a model and trains it for a number of steps on uniformly random tokens,
 * reporting the loss of every step. It measures speed and proves that a model trains (the loss of
 * random data falls towards ln(vocabSize)) on the chosen backend; real pretraining is the trainer's job.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EngineError } from '../../../common/errors';
import type { ModelTrainStepsResult } from '../../../common/protocol';
import { createModel } from '../../models/registry';
import { AdamW } from '../../training/adamw';
import { checkMemory } from '../../training/memoryBudget';
import { trainStep } from '../../training/trainStep';
import { Rng } from '../../util/random';
import type { JobHandler } from '../job';
import { readModelConfig } from './modelDescribe';

const DEFAULT_LEARNING_RATE = 1e-3;

/** B rows of T+1 random tokens: inputs are the first T, labels the next-token shift of them. */
function randomTokens(rng: Rng, B: number, T: number, vocab: number): { inputs: Int32Array; labels: Int32Array } {
  const inputs = new Int32Array(B * T);
  const labels = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let prev = rng.int(vocab);
    for (let t = 0; t < T; t++) {
      const next = rng.int(vocab);
      inputs[b * T + t] = prev;
      labels[b * T + t] = next;
      prev = next;
    }
  }
  return { inputs, labels };
}

export const modelTrainSteps: JobHandler<'model.trainSteps'> = {
  usesDevice: true,
  backendOf: (spec) => spec.backend,
  async run(spec, ctx) {
    const config = readModelConfig(spec.model);
    if (spec.seqLen > config.contextLength) {
      throw new EngineError('INVALID_CONFIG', `seqLen ${spec.seqLen} exceeds the model's contextLength ${config.contextLength}; use seqLen ≤ ${config.contextLength} or raise model.contextLength`, ['seqLen']);
    }
    const backend = ctx.backend!;
    const { batchSize: B, seqLen: T, steps } = spec;
    // refused before a tensor exists, as a pretraining run is: a model past memory would block the engine for minutes
    checkMemory(config, B, T, backend.name);
    const lr = spec.learningRate ?? DEFAULT_LEARNING_RATE;
    const rng = new Rng((spec.seed ^ 0x5eed) >>> 0);
    const losses: (number | null)[] = [];
    const model = createModel(spec.model, spec.seed);
    const parameters = [...model.variables.values()].reduce((n, v) => n + v.size, 0);
    let optimizer: AdamW | undefined;
    const started = performance.now();
    try {
      optimizer = new AdamW(Object.fromEntries(model.variables), { lr, ...(spec.weightDecay !== undefined ? { weightDecay: spec.weightDecay } : {}) });
      ctx.log('info', `training ${config.arch} (${parameters} parameters) on ${backend.name} for ${steps} steps of ${B}×${T} tokens`);
      for (let step = 1; step <= steps; step++) {
        await ctx.checkpoint();
        const t0 = performance.now();
        const { inputs, labels } = randomTokens(rng, B, T, config.vocabSize);
        const batch = { inputIds: tf.tensor2d(inputs, [B, T], 'int32'), labels: tf.tensor2d(labels, [B, T], 'int32') };
        let result: { loss: number; gradNorm: number };
        try {
          result = trainStep(model, optimizer, batch, { lr, ...(spec.clipNorm !== undefined ? { clipNorm: spec.clipNorm } : {}) });
        } finally {
          tf.dispose([batch.inputIds, batch.labels]);
        }
        losses.push(Number.isFinite(result.loss) ? result.loss : null);
        ctx.progress(step, steps, { metrics: { loss: result.loss, gradNorm: result.gradNorm, stepMs: performance.now() - t0 } });
      }
    } finally {
      optimizer?.dispose();
      model.dispose();
    }
    const elapsedMs = performance.now() - started;
    const result: ModelTrainStepsResult = {
      steps: losses.length,
      losses,
      finalLoss: losses[losses.length - 1] ?? null,
      parameters,
      elapsedMs,
      tokensPerSecond: elapsedMs > 0 ? (losses.length * B * T) / (elapsedMs / 1000) : 0,
      backend,
      optimizer: 'adamw',
    };
    return result;
  },
};
