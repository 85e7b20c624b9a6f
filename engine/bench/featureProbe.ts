/**
 * `npx tsx engine/bench/featureProbe.ts RUN_DIR`: does a pretrained checkpoint hold anything the Brown genre task
 * can use? Linear probes (multinomial logistic regression on standardised features) over frozen features of
 * the classifier fine-tuning starts from — the base's weights, loaded by the fine-tune path itself — and of the
 * same architecture freshly initialised (what `--init scratch` starts from): the final layer's [CLS] row, the
 * pooler's output (what BertForSequenceClassification classifies), the final layer's mean over the passage,
 * and the mean of the word embeddings. When the pretrained rows are no better than the fresh ones, fine-tuning
 * from that checkpoint has nothing to start from that scratch lacks.
 *
 *   npx tsx engine/bench/featureProbe.ts RUN_DIR [--passage-tokens N] [--passages-per-doc N] [--train-examples N]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { ClassificationData } from '../../common/finetuneConfig';
import { TOKENIZER_FILE } from '../../common/node/runFiles';
import { selectBackend } from '../backends/select';
import { loadBaseWeights } from '../finetune/baseWeights';
import { evenlySpaced, packBatch, type LabelledExample } from '../finetune/classificationData';
import { classificationSplit } from '../finetune/classificationKind';
import { classTensors } from '../finetune/classifierTask';
import type { BERT } from '../models/bert/model';
import { createModel } from '../models/registry';
import { loadTokenizer, type Tokenizer } from '../tokenizers';
import { resolveDerivedRun } from '../training/derivedRun';

const FEATURES = ['[CLS]', 'pooler', 'mean hidden', 'mean embedding'] as const;
type Features = Record<(typeof FEATURES)[number], number[][]>;

/** The frozen features of each example, in batches of 64 (no gradient, no dropout). */
function featuresOf(model: BERT, examples: readonly LabelledExample[], tokenizer: Tokenizer): Features {
  const out: Features = { '[CLS]': [], pooler: [], 'mean hidden': [], 'mean embedding': [] };
  for (let at = 0; at < examples.length; at += 64) {
    tf.tidy(() => {
      const batch = classTensors(packBatch(examples.slice(at, at + 64), 'bert', tokenizer.specialIds), 'bert');
      const { hidden } = model.forward(batch); // [B, T, d]; brown-genre passages are full, so no padding enters a mean
      const [B, , d] = hidden.shape;
      out['[CLS]'].push(...(tf.reshape(tf.slice(hidden, [0, 0, 0], [B, 1, d]), [B, d]).arraySync() as number[][]));
      out.pooler.push(...(model.pooled(hidden).arraySync() as number[][]));
      out['mean hidden'].push(...(tf.mean(hidden, 1).arraySync() as number[][]));
      out['mean embedding'].push(...(tf.mean(tf.gather(model.params.get('bert.embeddings.word_embeddings.weight'), batch.inputIds), 1).arraySync() as number[][]));
    });
  }
  return out;
}

/** Train and test accuracy of a linear classifier on standardised features (Adam, 300 full-batch steps, L2 1e-3). */
function linearProbe(xTrain: number[][], yTrain: number[], xTest: number[][], yTest: number[], labels: number): [number, number] {
  return tf.tidy(() => {
    const raw = tf.tensor2d(xTrain);
    const { mean, variance } = tf.moments(raw, 0);
    const scale = (x: tf.Tensor2D) => tf.div(tf.sub(x, mean), tf.add(tf.sqrt(variance), 1e-6)) as tf.Tensor2D;
    const x = scale(raw), xt = scale(tf.tensor2d(xTest));
    const w = tf.variable(tf.zeros([x.shape[1], labels])), b = tf.variable(tf.zeros([labels]));
    const target = tf.oneHot(tf.tensor1d(yTrain, 'int32'), labels);
    const opt = tf.train.adam(0.01);
    const logits = (f: tf.Tensor2D) => tf.add(tf.matMul(f, w), b);
    for (let i = 0; i < 300; i++) opt.minimize(() => tf.add(tf.losses.softmaxCrossEntropy(target, logits(x)), tf.mul(1e-3, tf.sum(tf.square(w)))) as tf.Scalar);
    const acc = (f: tf.Tensor2D, y: number[]) => { const p = tf.argMax(logits(f), 1).dataSync(); return p.filter((c, i) => c === y[i]).length / y.length; };
    const result: [number, number] = [acc(x, yTrain), acc(xt, yTest)];
    w.dispose(); b.dispose(); opt.dispose();
    return result;
  });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true, strict: true,
    options: { 'passage-tokens': { type: 'string', default: '64' }, 'passages-per-doc': { type: 'string', default: '12' }, 'train-examples': { type: 'string', default: '1600' } },
  });
  if (!positionals[0]) throw new Error('give the pretrained run folder: npx tsx engine/bench/featureProbe.ts RUN_DIR');
  await selectBackend('auto');
  const data = { kind: 'brown-genre' as const, passageTokens: Number(values['passage-tokens']), passagesPerDocument: Number(values['passages-per-doc']) };
  const config = await resolveDerivedRun({ task: 'finetune', baseRunDir: path.resolve(positionals[0]), baseCheckpoint: 'last', settings: { data } });
  if (config.task !== 'finetune' || config.model.arch !== 'bert') throw new Error(`${positionals[0]}: the probe reads BERT runs; this one is ${config.model.arch}`);
  const seed = config.finetune.loop.seed;
  const tokenizer = loadTokenizer(path.join(config.base.runDir, TOKENIZER_FILE));
  const split = await classificationSplit(config.finetune.data as ClassificationData, tokenizer, config.model, seed);
  const train = evenlySpaced(split.train, Number(values['train-examples']));
  const [yTrain, yTest] = [train, split.test].map((xs) => xs.map((e) => e.label));
  process.stdout.write(`linear probes on frozen features: ${train.length} training passages, ${split.test.length} test passages of ${data.passageTokens} tokens, ${split.labels.length} genres\n\n| weights | features | train accuracy % | test accuracy % |\n| --- | --- | --- | --- |\n`);
  for (const init of ['pretrained', 'scratch'] as const) {
    const model = createModel(config.model, seed) as BERT;
    if (init === 'pretrained') await loadBaseWeights(model, config.base);
    const [fTrain, fTest] = [featuresOf(model, train, tokenizer), featuresOf(model, split.test, tokenizer)];
    model.dispose();
    for (const f of FEATURES) {
      const [a, b] = linearProbe(fTrain[f], yTrain, fTest[f], yTest, split.labels.length);
      process.stdout.write(`| ${init} | ${f} | ${(100 * a).toFixed(1)} | ${(100 * b).toFixed(1)} |\n`);
    }
  }
}

await main();
