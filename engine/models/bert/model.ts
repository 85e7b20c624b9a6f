/**
 * BERT style encoder: word + position + token-type embeddings and a LayerNorm, a stack of post-LN blocks
 * with bidirectional self-attention under a padding mask, and the pretraining heads — masked LM (tied to
 * the word embeddings) and next-sentence prediction on the tanh pooler — plus an optional sequence
 * classifier. Parameter names are those of Hugging Face's BertForPreTraining (`bert.encoder.layer.0.…`,
 * `cls.predictions.…`) and BertForSequenceClassification (`classifier.…`); weights are nn.Linear [out, in].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedModelConfig } from '../../../common/modelConfig';
import { selfAttention } from '../attention';
import { activation, addPositions, crossEntropy, embedding, linearT, withAuxLoss } from '../layers';
import { moeParamSpecs } from '../moe';
import { TransformerBase, type Dropper } from '../base';
import { bias, norm, weight, type ParamSpec } from '../params';
import type { Batch, ForwardOptions, ForwardResult, LossResult, Objective, TransformerModel } from '../types';

export function bertParamSpecs(c: ResolvedModelConfig): ParamSpec[] {
  const { vocabSize: V, contextLength: P, dModel: d, dFF: ff, attnDim: a } = c;
  const dense = (name: string, out: number, inp: number) => [weight(`${name}.weight`, [out, inp]), bias(`${name}.bias`, [out])];
  const specs: ParamSpec[] = [weight('bert.embeddings.word_embeddings.weight', [V, d])];
  if (c.positional === 'learned') specs.push(weight('bert.embeddings.position_embeddings.weight', [P, d]));
  specs.push(weight('bert.embeddings.token_type_embeddings.weight', [c.typeVocabSize, d]), ...norm('bert.embeddings.LayerNorm', d));
  for (let i = 0; i < c.nLayers; i++) {
    const l = `bert.encoder.layer.${i}`;
    specs.push(
      ...dense(`${l}.attention.self.query`, a, d), ...dense(`${l}.attention.self.key`, a, d), ...dense(`${l}.attention.self.value`, a, d),
      ...dense(`${l}.attention.output.dense`, d, a), ...norm(`${l}.attention.output.LayerNorm`, d),
      ...(c.moe ? moeParamSpecs(`${l}.moe`, { dModel: d, dFF: ff, experts: c.moe.experts }) : [...dense(`${l}.intermediate.dense`, ff, d), ...dense(`${l}.output.dense`, d, ff)]),
      ...norm(`${l}.output.LayerNorm`, d),
    );
  }
  specs.push(
    ...dense('bert.pooler.dense', d, d),
    ...dense('cls.predictions.transform.dense', d, d), ...norm('cls.predictions.transform.LayerNorm', d),
    bias('cls.predictions.bias', [V]),
    ...dense('cls.seq_relationship', 2, d),
  );
  if (c.numLabels) specs.push(...dense('classifier', c.numLabels, d));
  return specs;
}

export class BERT extends TransformerBase implements TransformerModel {
  constructor(config: ResolvedModelConfig, seed: number) {
    if (config.arch !== 'bert') throw new Error(`BERT built from a config whose arch is '${config.arch}'`);
    super(config, bertParamSpecs(config), seed);
  }

  /** A linear layer; the heads, called outside a forward pass, pass no dropper (their adapters run without dropout). */
  private dense(x: tf.Tensor2D, name: string, drop?: Dropper): tf.Tensor2D {
    return this.adapted(linearT(this.input(name, x), this.p(`${name}.weight`), this.p(`${name}.bias`)), x, [name], drop);
  }

  forward(batch: Batch, opts: ForwardOptions = {}): ForwardResult {
    const c = this.config;
    const [B, T] = this.batchShape(batch.inputIds);
    const d = c.dModel;
    const drop = this.dropper(opts);
    const attentions: tf.Tensor4D[] = [];
    const hiddenStates: tf.Tensor3D[] = [];
    const auxLosses: tf.Scalar[] = [];

    let x = embedding(this.p('bert.embeddings.word_embeddings.weight'), tf.reshape(batch.inputIds, [B * T])); // [N, d]
    const types = batch.tokenTypeIds ? tf.reshape(batch.tokenTypeIds, [B * T]) : tf.zeros([B * T], 'int32');
    x = tf.add(x, embedding(this.p('bert.embeddings.token_type_embeddings.weight'), types as tf.Tensor1D));
    x = addPositions(x, B, T, c, this.params);
    x = drop(this.ln(x, 'bert.embeddings.LayerNorm'));

    const keyMask = batch.attentionMask; // [B, T] padding mask, or none

    for (let i = 0; i < c.nLayers; i++) {
      const l = `bert.encoder.layer.${i}`;
      // one projection for q|k|v: the three [attnDim, d] weights stacked into [3·attnDim, d]
      const self = ['query', 'key', 'value'].map((n) => `${l}.attention.self.${n}`);
      const qkv = this.adapted(linearT(this.input(self[0], x), tf.concat(self.map((n) => this.p(`${n}.weight`))) as tf.Tensor2D, tf.concat(self.map((n) => this.p(`${n}.bias`))) as tf.Tensor1D), x, self, drop); // [N, 3·attnDim]
      const att = selfAttention(qkv, B, T, c.nHeads, {
        kind: c.attention, causal: false, keyMask, returnProbs: Boolean(opts.returnAttentions), probsGrad: opts.attentionGrads,
        ...(c.positional === 'rope' ? { ropeBase: c.ropeBase } : {}),
      });
      if (att.probs) attentions.push(att.probs);
      const o = drop(this.dense(att.out, `${l}.attention.output.dense`, drop)); // [N, d]
      x = this.ln(tf.add(o, x), `${l}.attention.output.LayerNorm`);
      let y: tf.Tensor2D;
      if (c.moe) {
        const r = this.moe(x, `${l}.moe`);
        y = r.y;
        auxLosses.push(r.auxLoss);
      } else {
        y = this.dense(activation(c.activation, this.dense(x, `${l}.intermediate.dense`, drop)) as tf.Tensor2D, `${l}.output.dense`, drop); // [N, d]
      }
      x = this.ln(tf.add(drop(y), x), `${l}.output.LayerNorm`);
      if (opts.returnHiddenStates) hiddenStates.push(tf.reshape(x, [B, T, d]));
    }
    return {
      hidden: tf.reshape(x, [B, T, d]),
      ...(opts.returnAttentions ? { attentions } : {}),
      ...(opts.returnHiddenStates ? { hiddenStates } : {}),
      ...(auxLosses.length ? { auxLoss: tf.addN(auxLosses) as tf.Scalar } : {}),
    };
  }

  /** Masked-LM logits for rows of hidden states [M, d] → [M, V] (decoder tied to the word embeddings). */
  mlmLogitsRows(rows: tf.Tensor2D): tf.Tensor2D {
    const t = this.ln(activation(this.config.activation, this.dense(rows, 'cls.predictions.transform.dense')) as tf.Tensor2D, 'cls.predictions.transform.LayerNorm');
    return linearT(t, this.p('bert.embeddings.word_embeddings.weight'), this.p('cls.predictions.bias'));
  }

  /** Masked-LM logits at every position, [B, T, V]. */
  mlmLogits(hidden: tf.Tensor3D): tf.Tensor3D {
    const [B, T, d] = hidden.shape;
    return tf.reshape(this.mlmLogitsRows(tf.reshape(hidden, [B * T, d])), [B, T, this.config.vocabSize]);
  }

  /** tanh(dense(h[CLS])) → [B, d] */
  pooled(hidden: tf.Tensor3D): tf.Tensor2D {
    const [B, , d] = hidden.shape;
    return tf.tanh(this.dense(tf.reshape(tf.slice(hidden, [0, 0, 0], [B, 1, d]), [B, d]), 'bert.pooler.dense'));
  }

  nspLogits(hidden: tf.Tensor3D): tf.Tensor2D {
    return this.dense(this.pooled(hidden), 'cls.seq_relationship'); // [B, 2]
  }

  classLogits(hidden: tf.Tensor3D): tf.Tensor2D {
    if (!this.config.numLabels) throw new Error('this model has no classification head; set numLabels in its config');
    return this.dense(this.pooled(hidden), 'classifier'); // [B, numLabels]
  }

  loss(batch: Batch, objective?: Objective, opts: ForwardOptions = {}): LossResult {
    const goal = objective ?? (batch.nextSentenceLabels ? 'mlm-nsp' : 'mlm');
    if (goal === 'causal-lm') throw new Error('a bert model trains with mlm, mlm-nsp or classification, not causal-lm');
    const { hidden, auxLoss } = this.forward(batch, opts);
    return withAuxLoss(this.taskLoss(hidden, batch, goal), auxLoss, this.config);
  }

  private taskLoss(hidden: tf.Tensor3D, batch: Batch, goal: Objective): LossResult {
    if (goal === 'classification') {
      if (!batch.classLabels) throw new Error('classification needs classLabels in the batch');
      const loss = crossEntropy(this.classLogits(hidden), batch.classLabels);
      return { loss, parts: { classification: loss } };
    }
    if (!batch.labels) throw new Error('masked LM needs labels (the original token where masked, -100 elsewhere) in the batch');
    const parts: Record<string, tf.Scalar> = { mlm: this.maskedLmLoss(hidden, batch.labels) };
    let loss = parts.mlm;
    if (goal === 'mlm-nsp') {
      if (!batch.nextSentenceLabels) throw new Error('mlm-nsp needs nextSentenceLabels in the batch');
      parts.nsp = crossEntropy(this.nspLogits(hidden), batch.nextSentenceLabels);
      loss = tf.add(loss, parts.nsp) as tf.Scalar;
    }
    return { loss, parts };
  }

  /** Mean CE over the masked positions only: the vocabulary projection runs on those rows, not on all B·T. */
  private maskedLmLoss(hidden: tf.Tensor3D, labels: tf.Tensor2D): tf.Scalar {
    const [B, T, d] = hidden.shape;
    const flat = labels.dataSync();
    const rows: number[] = [];
    const targets: number[] = [];
    for (let i = 0; i < flat.length; i++) if (flat[i] !== -100) { rows.push(i); targets.push(flat[i]); }
    if (rows.length === 0) return tf.scalar(0);
    const picked = tf.gather(tf.reshape(hidden, [B * T, d]), tf.tensor1d(rows, 'int32')) as tf.Tensor2D; // [M, d]
    return crossEntropy(this.mlmLogitsRows(picked), tf.tensor1d(targets, 'int32'));
  }

}
