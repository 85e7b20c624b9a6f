/**
 * GPT-2 style decoder: token (+ position) embeddings, a stack of pre-LN blocks with causal self-attention
 * and a GELU MLP, a final LayerNorm and a language-model head tied to the token embeddings.
 * Parameter names are those of Hugging Face's GPT2Model (`wte.weight`, `h.0.attn.c_attn.weight`, …);
 * the optional classification head is GPT2ForSequenceClassification's `score.weight`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedModelConfig } from '../../../common/modelConfig';
import { cachedCausalAttention, selfAttention, type DecodeRows, type PastKeyValues } from '../attention';
import { activation, addPositions, addPositionsAt, crossEntropy, embedding, linear, withAuxLoss } from '../layers';
import { moeParamSpecs } from '../moe';
import { TransformerBase, type Dropper } from '../base';
import { bias, norm, weight, type ParamSpec } from '../params';
import { KvCache } from './kvCache';
import type { Batch, ForwardOptions, ForwardResult, LossResult, Objective, TransformerModel } from '../types';

export function gptParamSpecs(c: ResolvedModelConfig): ParamSpec[] {
  const { vocabSize: V, contextLength: P, dModel: d, dFF: ff, attnDim: a } = c;
  const specs: ParamSpec[] = [weight('wte.weight', [V, d])];
  if (c.positional === 'learned') specs.push(weight('wpe.weight', [P, d]));
  for (let i = 0; i < c.nLayers; i++) {
    const h = `h.${i}`;
    specs.push(
      ...norm(`${h}.ln_1`, d),
      weight(`${h}.attn.c_attn.weight`, [d, 3 * a]), bias(`${h}.attn.c_attn.bias`, [3 * a]),
      weight(`${h}.attn.c_proj.weight`, [a, d]), bias(`${h}.attn.c_proj.bias`, [d]),
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

  private conv1d(x: tf.Tensor2D, name: string, drop: Dropper): tf.Tensor2D {
    return this.adapted(linear(this.input(name, x), this.p(`${name}.weight`), this.p(`${name}.bias`)), x, [name], drop);
  }

  forward(batch: Batch, opts: ForwardOptions = {}): ForwardResult {
    const c = this.config;
    const [B, T] = this.batchShape(batch.inputIds);
    const drop = this.dropper(opts);
    const attentions: tf.Tensor4D[] = [];
    const hiddenStates: tf.Tensor3D[] = [];
    const auxLosses: tf.Scalar[] = [];
    const keyMask = batch.attentionMask; // [B, T] padding mask, or none

    let x = this.embed(batch.inputIds, 0);
    x = drop(x);
    for (let i = 0; i < c.nLayers; i++) {
      x = this.block(x, i, drop, auxLosses, (qkv) => {
        const att = selfAttention(qkv, B, T, c.nHeads, {
          kind: c.attention, causal: true, keyMask, returnProbs: Boolean(opts.returnAttentions), probsGrad: opts.attentionGrads,
          ...(c.positional === 'rope' ? { ropeBase: c.ropeBase } : {}),
        });
        if (att.probs) attentions.push(att.probs);
        return att.out;
      });
      if (opts.returnHiddenStates) hiddenStates.push(tf.reshape(x, [B, T, c.dModel]));
    }
    x = this.ln(x, 'ln_f');
    return {
      hidden: tf.reshape(x, [B, T, c.dModel]),
      ...(opts.returnAttentions ? { attentions } : {}),
      ...(opts.returnHiddenStates ? { hiddenStates } : {}),
      ...(auxLosses.length ? { auxLoss: tf.addN(auxLosses) as tf.Scalar } : {}),
    };
  }

  /**
   * Incremental decoding: next-token logits [B, t, V] for `inputIds` [B, t] that continue the sequence
   * whose keys and values `cache` holds (empty at the start), which then holds these positions too. The
   * logits equal those of forward() over the whole sequence; the work per new token is one row per layer.
   * With `rows`, a left-padded batch of sequences at different positions decodes together (the server's
   * batches): each row's logits equal those of its sequence decoded alone.
   */
  decode(inputIds: tf.Tensor2D, cache: KvCache, rows?: DecodeRows): tf.Tensor3D {
    const c = this.config;
    const [B, t] = inputIds.shape;
    const end = rows ? Math.max(...rows.positions) + 1 : cache.length + t;
    if (end > c.contextLength) throw new Error(`decoding to position ${end} exceeds contextLength ${c.contextLength}; start a new cache on the last ${c.contextLength} tokens or fewer`);
    const next: PastKeyValues[] = [];
    const logits = tf.tidy(() => {
      let x = this.embed(inputIds, cache.length, rows?.positions);
      for (let i = 0; i < c.nLayers; i++) {
        x = this.block(x, i, this.dropper({}), [], (qkv) => {
          const r = cachedCausalAttention(qkv, B, t, c.nHeads, cache.layers[i] ?? null, { kind: c.attention, ...(c.positional === 'rope' ? { ropeBase: c.ropeBase } : {}), ...(rows ? { rows } : {}) });
          next.push({ k: tf.keep(r.k), v: tf.keep(r.v) });
          return r.out;
        });
      }
      return this.lmLogits(tf.reshape(this.ln(x, 'ln_f'), [B, t, c.dModel]));
    });
    cache.replace(next);
    return logits;
  }

  /** Token and position embeddings of ids [B, T] at positions offset … offset+T-1 (or at `positions` [B·T]), as rows [B·T, d]. */
  private embed(inputIds: tf.Tensor2D, offset: number, positions?: Int32Array): tf.Tensor2D {
    const [B, T] = inputIds.shape;
    const x = embedding(this.p('wte.weight'), tf.reshape(inputIds, [B * T])); // [N, d]
    return positions ? addPositionsAt(x, positions, this.config, this.params) : addPositions(x, B, T, this.config, this.params, offset);
  }

  /** Block i on rows x [N, d]: x + c_proj(attend(c_attn(ln_1(x)))), then x + MLP(ln_2(x)) (or a mixture of experts). */
  private block(x: tf.Tensor2D, i: number, drop: Dropper, auxLosses: tf.Scalar[], attend: (qkv: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
    const h = `h.${i}`;
    const qkv = this.conv1d(this.ln(x, `${h}.ln_1`), `${h}.attn.c_attn`, drop); // [N, 3·attnDim]
    x = tf.add(x, drop(this.conv1d(attend(qkv), `${h}.attn.c_proj`, drop)));
    const m = this.ln(x, `${h}.ln_2`);
    let y: tf.Tensor2D;
    if (this.config.moe) {
      const r = this.moe(m, `${h}.mlp`);
      y = r.y;
      auxLosses.push(r.auxLoss);
    } else {
      y = this.conv1d(activation(this.config.activation, this.conv1d(m, `${h}.mlp.c_fc`, drop)) as tf.Tensor2D, `${h}.mlp.c_proj`, drop); // [N, d]
    }
    return tf.add(x, drop(y));
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
      ? tf.sub(tf.sum(tf.cast(batch.attentionMask, 'int32'), 1), tf.scalar(1, 'int32')) // [B]; an int32 one keeps the indices int32
      : tf.fill([B], T - 1, 'int32');
    const rows = tf.add(tf.mul(tf.range(0, B, 1, 'int32'), tf.scalar(T, 'int32')), last); // [B] indices into the [B·T] rows
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
