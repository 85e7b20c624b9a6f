/**
 * GPT-2 style decoder: token (+ position) embeddings, a stack of pre-LN blocks with causal self-attention
 * and a GELU MLP, a final LayerNorm and a language-model head tied to the token embeddings.
 * Parameter names are those of Hugging Face's GPT2Model (`wte.weight`, `h.0.attn.c_attn.weight`, …);
 * the optional classification head is GPT2ForSequenceClassification's `score.weight`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedModelConfig } from '../../../common/modelConfig';
import { selfAttention } from '../attention';
import { activation, addPositions, crossEntropy, embedding, linear, withAuxLoss } from '../layers';
import { moeParamSpecs } from '../moe';
import { TransformerBase } from '../base';
import { bias, norm, weight, type ParamSpec } from '../params';
import type { Batch, ForwardOptions, ForwardResult, LossResult, Objective, TransformerModel } from '../types';

export function gptParamSpecs(c: ResolvedModelConfig): ParamSpec[] {
  const { vocabSize: V, contextLength: P, dModel: d, dFF: ff } = c;
  const specs: ParamSpec[] = [weight('wte.weight', [V, d])];
  if (c.positional === 'learned') specs.push(weight('wpe.weight', [P, d]));
  for (let i = 0; i < c.nLayers; i++) {
    const h = `h.${i}`;
    specs.push(
      ...norm(`${h}.ln_1`, d),
      weight(`${h}.attn.c_attn.weight`, [d, 3 * d]), bias(`${h}.attn.c_attn.bias`, [3 * d]),
      weight(`${h}.attn.c_proj.weight`, [d, d]), bias(`${h}.attn.c_proj.bias`, [d]),
      ...norm(`${h}.ln_2`, d),
      ...(c.moe ? moeParamSpecs(`${h}.mlp`, { dModel: d, dFF: ff, experts: c.moe.experts }) : [
        weight(`${h}.mlp.c_fc.weight`, [d, ff]), bias(`${h}.mlp.c_fc.bias`, [ff]),
        weight(`${h}.mlp.c_proj.weight`, [ff, d]), bias(`${h}.mlp.c_proj.bias`, [d]),
      ]),
    );
  }
  specs.push(...norm('ln_f', d));
  if (c.numLabels) specs.push(weight('score.weight', [c.numLabels, d]));
  return specs;
}

export class GPT extends TransformerBase implements TransformerModel {
  constructor(config: ResolvedModelConfig, seed: number) {
    if (config.arch !== 'gpt') throw new Error(`GPT built from a config whose arch is '${config.arch}'`);
    super(config, gptParamSpecs(config), seed);
  }

  private conv1d(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return linear(x, this.p(`${name}.weight`), this.p(`${name}.bias`));
  }

  forward(batch: Batch, opts: ForwardOptions = {}): ForwardResult {
    const c = this.config;
    const [B, T] = this.batchShape(batch.inputIds);
    const d = c.dModel;
    const drop = this.dropper(opts);
    const attentions: tf.Tensor4D[] = [];
    const auxLosses: tf.Scalar[] = [];

    let x = embedding(this.p('wte.weight'), tf.reshape(batch.inputIds, [B * T])); // [N, d]
    x = addPositions(x, B, T, c, this.params);
    x = drop(x);
    const keyMask = batch.attentionMask; // [B, T] padding mask, or none

    for (let i = 0; i < c.nLayers; i++) {
      const h = `h.${i}`;
      // attention sub-block: x + c_proj(attn(ln_1(x)))
      const qkv = this.conv1d(this.ln(x, `${h}.ln_1`), `${h}.attn.c_attn`); // [N, 3d]
      const att = selfAttention(qkv, B, T, c.nHeads, {
        kind: c.attention, causal: true, keyMask, returnProbs: Boolean(opts.returnAttentions),
        ...(c.positional === 'rope' ? { ropeBase: c.ropeBase } : {}),
      });
      if (att.probs) attentions.push(att.probs);
      x = tf.add(x, drop(this.conv1d(att.out, `${h}.attn.c_proj`)));
      // MLP sub-block: x + c_proj(gelu(c_fc(ln_2(x)))), or a mixture of such experts
      const m = this.ln(x, `${h}.ln_2`);
      let y: tf.Tensor2D;
      if (c.moe) {
        const r = this.moe(m, `${h}.mlp`);
        y = r.y;
        auxLosses.push(r.auxLoss);
      } else {
        y = this.conv1d(activation(c.activation, this.conv1d(m, `${h}.mlp.c_fc`)) as tf.Tensor2D, `${h}.mlp.c_proj`); // [N, d]
      }
      x = tf.add(x, drop(y));
    }
    x = this.ln(x, 'ln_f');
    return {
      hidden: tf.reshape(x, [B, T, d]),
      ...(opts.returnAttentions ? { attentions } : {}),
      ...(auxLosses.length ? { auxLoss: tf.addN(auxLosses) as tf.Scalar } : {}),
    };
  }

  /** Next-token logits [B, T, V] from the tied embedding matrix. */
  lmLogits(hidden: tf.Tensor3D): tf.Tensor3D {
    const [B, T, d] = hidden.shape;
    const logits = linear(tf.reshape(hidden, [B * T, d]), tf.transpose(this.p<tf.Rank.R2>('wte.weight'))); // [N, V]
    return tf.reshape(logits, [B, T, this.config.vocabSize]);
  }

  /** Class logits [B, numLabels] from the last real token of each sequence (GPT2ForSequenceClassification). */
  classLogits(hidden: tf.Tensor3D, batch: Batch): tf.Tensor2D {
    if (!this.config.numLabels) throw new Error('this model has no classification head; set numLabels in its config');
    const [B, T, d] = hidden.shape;
    const last = batch.attentionMask
      ? tf.sub(tf.sum(tf.cast(batch.attentionMask, 'int32'), 1), 1) // [B]
      : tf.fill([B], T - 1, 'int32');
    const rows = tf.add(tf.mul(tf.range(0, B, 1, 'int32'), T), last); // [B] indices into the [B·T] rows
    const pooled = tf.gather(tf.reshape(hidden, [B * T, d]), rows); // [B, d]
    return tf.matMul(pooled, tf.transpose(this.p('score.weight'))); // [B, numLabels]
  }

  loss(batch: Batch, objective: Objective = 'causal-lm', opts: ForwardOptions = {}): LossResult {
    const { hidden, auxLoss } = this.forward(batch, opts);
    return withAuxLoss(this.taskLoss(hidden, batch, objective), auxLoss, this.config);
  }

  private taskLoss(hidden: tf.Tensor3D, batch: Batch, objective: Objective): LossResult {
    if (objective === 'classification') {
      if (!batch.classLabels) throw new Error('classification needs classLabels in the batch');
      const loss = crossEntropy(this.classLogits(hidden, batch), batch.classLabels);
      return { loss, parts: { classification: loss } };
    }
    if (objective !== 'causal-lm') throw new Error(`a gpt model trains with causal-lm or classification, not ${objective}`);
    if (!batch.labels) throw new Error('causal-lm needs labels (the next token at every position) in the batch');
    const [B, T] = batch.inputIds.shape;
    const logits = tf.reshape(this.lmLogits(hidden), [B * T, this.config.vocabSize]) as tf.Tensor2D;
    const loss = crossEntropy(logits, tf.reshape(batch.labels, [B * T]));
    return { loss, parts: { lm: loss } };
  }

}
