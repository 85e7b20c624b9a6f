/**
 * Sequence classification as a task of the training loop (engine/training/task.ts): batches of labelled
 * examples drawn with the loop's data RNG, cross-entropy on the model's classification head (BERT's pooler
 * and `classifier`, GPT's `score` on the last real token), gradients of the trainable weights only, and at
 * every evaluation accuracy and macro-F1 on a fixed set of test examples — with per-class precision and
 * recall and the confusion matrix written to the run folder (common/classificationReport.ts).
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CLASSIFICATION_REPORT_FILE, type ClassificationReport } from '../../common/classificationReport';
import { writeJsonAtomic } from '../../common/node/atomicWrite';
import type { SpecialIds } from '../../common/tokenizerConfig';
import type { EvalResult } from '../../common/runEvents';
import { crossEntropy } from '../models/layers';
import type { AnyModel } from '../models/registry';
import type { Batch } from '../models/types';
import { yieldToLoop } from '../util/cooperative';
import type { Rng } from '../util/random';
import type { TrainingTask } from '../training/task';
import type { Gradients } from '../training/trainStep';
import { packBatch, type ClassBatch, type ClassificationSplit, type LabelledExample } from './classificationData';
import { classificationFigures } from './classificationMetrics';
import { countTrainable, type TrainableCount } from './trainable';

export interface ClassifierTaskOptions {
  model: AnyModel;
  split: ClassificationSplit;
  trainable: readonly string[];
  batchSize: number;
  specials: SpecialIds;
  /** the training examples the train-side estimate uses, and the test examples each evaluation classifies */
  trainSample: readonly LabelledExample[];
  evalSet: readonly LabelledExample[];
  /** the run folder the report goes to */
  runDir: string;
}

export function classTensors(b: ClassBatch, arch: 'gpt' | 'bert'): Batch {
  const m = (a: Int32Array) => tf.tensor2d(a, [b.B, b.T], 'int32');
  return {
    inputIds: m(b.inputIds),
    attentionMask: m(b.attentionMask),
    ...(arch === 'bert' ? { tokenTypeIds: m(b.tokenTypeIds) } : {}),
    classLabels: tf.tensor1d(b.classLabels, 'int32'),
  };
}

/** What one pass over a set of examples found: the mean loss and each example's predicted class. */
export interface Predictions { loss: number; predicted: Int32Array }

/** The model's predictions over `examples` in batches, no gradient recorded, with the event loop let through between batches. */
export async function predict(model: AnyModel, examples: readonly LabelledExample[], batchSize: number, specials: SpecialIds): Promise<Predictions> {
  const predicted = new Int32Array(examples.length);
  let lossSum = 0;
  for (let at = 0; at < examples.length; at += batchSize) {
    await yieldToLoop();
    const chunk = examples.slice(at, at + batchSize);
    tf.tidy(() => {
      const batch = classTensors(packBatch(chunk, model.config.arch, specials), model.config.arch);
      const logits = classLogits(model, batch);
      lossSum += crossEntropy(logits, batch.classLabels!).dataSync()[0] * chunk.length;
      predicted.set(tf.argMax(logits, 1).dataSync() as Int32Array, at);
    });
  }
  return { loss: examples.length ? lossSum / examples.length : 0, predicted };
}

function classLogits(model: AnyModel, batch: Batch): tf.Tensor2D {
  const { hidden } = model.forward(batch);
  return model.config.arch === 'gpt' ? (model as import('../models/gpt/model').GPT).classLogits(hidden, batch) : (model as import('../models/bert/model').BERT).classLogits(hidden);
}

export class ClassifierTask implements TrainingTask {
  readonly model: AnyModel;
  readonly trainable: readonly string[];
  readonly tokensPerStep: number;
  private readonly count: TrainableCount;

  constructor(private readonly o: ClassifierTaskOptions, gradAccumSteps: number) {
    this.model = o.model;
    this.trainable = o.trainable;
    this.count = countTrainable(o.model, o.trainable);
    const meanTokens = o.split.train.reduce((a, e) => a + e.a.length + (e.b?.length ?? 0), 0) / Math.max(1, o.split.train.length);
    this.tokensPerStep = Math.round(meanTokens * o.batchSize * gradAccumSteps);
  }

  /** One draw of batchSize training examples, uniformly with replacement, from the loop's data RNG. */
  private draw(rng: Rng): ClassBatch {
    const train = this.o.split.train;
    return packBatch(Array.from({ length: this.o.batchSize }, () => train[rng.int(train.length)]), this.model.config.arch, this.o.specials);
  }

  gradients(rng: Rng, microBatches: number, dropoutSeed: number): Gradients {
    const arch = this.model.config.arch;
    const hosts = Array.from({ length: microBatches }, () => this.draw(rng));
    const vars = this.trainable.map((n) => this.model.params.get(n));
    // one tape over the micro-batches' mean: only the trainable weights are differentiated (a frozen base costs no gradient)
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
      const losses = hosts.map((h, i) => {
        const batch = classTensors(h, arch);
        return this.model.loss(batch, 'classification', { training: true, dropoutSeed: dropoutSeed + i }).loss;
      });
      return tf.div(tf.addN(losses), microBatches) as tf.Scalar;
    }), vars);
    const loss = value.dataSync()[0];
    value.dispose();
    const byName: Record<string, tf.Tensor> = {};
    this.trainable.forEach((n, i) => {
      const g = grads[vars[i].name];
      if (g) byName[n] = g;
    });
    return { loss, grads: byName };
  }

  async evaluate(step: number): Promise<{ train: EvalResult; val: EvalResult }> {
    const { model, batchSize, specials, split } = this.o;
    const train = await predict(model, this.o.trainSample, batchSize, specials);
    const test = await predict(model, this.o.evalSet, batchSize, specials);
    const labels = split.labels;
    const trainFig = classificationFigures(labels, this.o.trainSample.map((e) => e.label), train.predicted);
    const testFig = classificationFigures(labels, this.o.evalSet.map((e) => e.label), test.predicted);
    const report: ClassificationReport = {
      step, labels, accuracy: testFig.accuracy, macroF1: testFig.macroF1, perClass: testFig.perClass, confusion: testFig.confusion,
      examples: this.o.evalSet.length, testExamples: split.test.length, balance: split.balance,
      trainableParams: this.count.trainable, totalParams: this.count.total,
    };
    await writeJsonAtomic(path.join(this.o.runDir, CLASSIFICATION_REPORT_FILE), report);
    // perplexity has no meaning for a classifier; exp of the loss keeps the field's arithmetic and no chart plots it for this task
    const result = (loss: number, f: { accuracy: number; macroF1: number }): EvalResult => ({ loss, perplexity: Math.exp(loss), accuracy: f.accuracy, macroF1: f.macroF1 });
    return { train: result(train.loss, trainFig), val: result(test.loss, testFig) };
  }

  dispose(): void {
    this.model.dispose();
  }
}
