/**
 * GPT-2 style decoder: token (+ position) embeddings, a stack of pre-LN blocks with causal self-attention
 * and a GELU MLP, a final LayerNorm and a language-model head tied to the token embeddings.
 * Parameter names are those of Hugging Face's GPT2Model (`wte.weight`, `h.0.attn.c_attn.weight`, …);
 * the optional classification head is GPT2ForSequenceClassification's `score.weight`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedModelConfig } from '../../../common/modelConfig';
import { mergeHeads, softmaxAttention, splitHeads } from '../attention';
import { activation, causalBias, crossEntropy, dropout, embedding, layerNorm, linear } from '../layers';
import { ParamStore, bias, norm, weight, type ParamSpec } from '../params';
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
      weight(`${h}.mlp.c_fc.weight`, [d, ff]), bias(`${h}.mlp.c_fc.bias`, [ff]),
      weight(`${h}.mlp.c_proj.weight`, [ff, d]), bias(`${h}.mlp.c_proj.bias`, [d]),
    );
  }
  specs.push(...norm('ln_f', d));
  if (c.numLabels) specs.push(weight('score.weight', [c.numLabels, d]));
  return specs;
}

export class GPT implements TransformerModel {
  readonly params: ParamStore;

  constructor(readonly config: ResolvedModelConfig, seed: number) {
    if (config.arch !== 'gpt') throw new Error(`GPT built from a config whose arch is '${config.arch}'`);
    this.params = new ParamStore(gptParamSpecs(config), config.initStd, seed);
  }

  get variables(): Map<string, tf.Variable> {
    return this.params.variables;
  }

  private p(name: string): tf.Tensor {
    return this.params.get(name);
  }

  forward(batch: Batch, opts: ForwardOptions = {}): ForwardResult {
    const c = this.config;
    const [B, T] = batch.inputIds.shape;
    if (T > c.contextLength) throw new Error(`sequence length ${T} exceeds contextLength ${c.contextLength}; shorten the input or raise contextLength`);
    const training = opts.training ?? false;
    const attentions: tf.Tensor4D[] = [];

    let x = embedding(this.p('wte.weight') as tf.Tensor2D, tf.reshape(batch.inputIds, [B * T])); // [N, d]
    if (c.positional === 'learned') {
      const pos = tf.slice(this.p('wpe.weight'), [0, 0], [T, c.dModel]); // [T, d]
      x = tf.reshape(tf.add(tf.reshape(x, [B, T, c.dModel]), pos), [B * T, c.dModel]);
    }
    x = dropout(x, c.dropout, training) as tf.Tensor2D;

    let bias: tf.Tensor = causalBias(T); // [T, T]
    if (batch.attentionMask) {
      const pad = tf.reshape(tf.mul(tf.sub(1, tf.cast(batch.attentionMask, 'float32')), -1e9), [B, 1, 1, T]);
      bias = tf.add(bias, pad); // [B, 1, T, T]
    }

    for (let i = 0; i < c.nLayers; i++) {
      const h = `h.${i}`;
      // attention sub-block: x + proj(attn(ln_1(x)))
      const a = layerNorm(x, this.p(`${h}.ln_1.weight`) as tf.Tensor1D, this.p(`${h}.ln_1.bias`) as tf.Tensor1D, c.layerNormEps);
      const qkv = linear(a, this.p(`${h}.attn.c_attn.weight`) as tf.Tensor2D, this.p(`${h}.attn.c_attn.bias`) as tf.Tensor1D); // [N, 3d]
      const [q, k, v] = tf.split(qkv, 3, 1).map((t) => splitHeads(t as tf.Tensor2D, B, T, c.nHeads)); // [B, H, T, hd]
      const att = softmaxAttention(q, k, v, bias);
      if (opts.returnAttentions) attentions.push(att.probs);
      const o = linear(mergeHeads(att.out), this.p(`${h}.attn.c_proj.weight`) as tf.Tensor2D, this.p(`${h}.attn.c_proj.bias`) as tf.Tensor1D); // [N, d]
      x = tf.add(x, dropout(o, c.dropout, training));
      // MLP sub-block: x + c_proj(gelu(c_fc(ln_2(x))))
      const m = layerNorm(x, this.p(`${h}.ln_2.weight`) as tf.Tensor1D, this.p(`${h}.ln_2.bias`) as tf.Tensor1D, c.layerNormEps);
      const f = activation(c.activation, linear(m, this.p(`${h}.mlp.c_fc.weight`) as tf.Tensor2D, this.p(`${h}.mlp.c_fc.bias`) as tf.Tensor1D)); // [N, ff]
      const y = linear(f as tf.Tensor2D, this.p(`${h}.mlp.c_proj.weight`) as tf.Tensor2D, this.p(`${h}.mlp.c_proj.bias`) as tf.Tensor1D); // [N, d]
      x = tf.add(x, dropout(y, c.dropout, training));
    }
    x = layerNorm(x, this.p('ln_f.weight') as tf.Tensor1D, this.p('ln_f.bias') as tf.Tensor1D, c.layerNormEps);
    return { hidden: tf.reshape(x, [B, T, c.dModel]), ...(opts.returnAttentions ? { attentions } : {}) };
  }

  /** Next-token logits [B, T, V] from the tied embedding matrix. */
  lmLogits(hidden: tf.Tensor3D): tf.Tensor3D {
    const [B, T, d] = hidden.shape;
    const logits = linear(tf.reshape(hidden, [B * T, d]), tf.transpose(this.p('wte.weight')) as tf.Tensor2D); // [N, V]
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
    const { hidden } = this.forward(batch, opts);
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

  dispose(): void {
    this.params.dispose();
  }
}
