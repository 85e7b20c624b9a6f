/**
 * The ONNX graphs of a bundle: GPT2LMHeadModel (next-token logits) and BERT's masked-LM head (fill-mask
 * logits), written from the engine's named weights. Inputs are Hugging Face's (`input_ids`, `attention_mask`,
 * BERT's `token_type_ids`; int64, [batch_size, sequence_length], both axes dynamic) and the output is
 * `logits` [batch_size, sequence_length, vocab]: what transformers.js and Optimum's exports feed and read.
 * BERT's positions are 0 … T-1 as in the engine; GPT-2 takes position_ids and a key/value cache (below).
 * A fine-tuned classifier (numLabels) gets the graph of Optimum's text-classification export instead:
 * `logits` [batch_size, num_labels] from BERT's pooler and classifier, or from GPT-2's score at each row's
 * last real token (no cache, positions 0 … T-1, right padding).
 *
 * `int8`: every projection inside the blocks runs as int8 × int8 → int32 (MatMulInteger): the weights int8
 * with one symmetric scale per output channel, the activations int8 with one symmetric scale per token,
 * chosen per call; the result is rescaled by both. Per-token rather than DynamicQuantizeLinear's one scale
 * per tensor: on the trained tiny GPT of the cross-check the per-tensor form was 3.4× as far from float
 * (12.7 % against 3.7 %), one outlier token coarsening every other. Embeddings, norms and the tied LM head
 * stay float32: the LM head shares the embedding table, and quantizing it would mean a second copy of the
 * largest matrix.
 *
 * An int8 variant (engine/compression/int8Variant.ts) brings its own codes and scales (`WeightSource.int8`):
 * they are written as they are, every 2-D weight it holds as int8 is int8 here (embedding tables too, one
 * scale per row, dequantized in the graph before their Gather and the tied head), the weights it kept float
 * stay float, and a projection whose input was calibrated (static activations) uses that one scale.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedModelConfig } from '../../common/modelConfig';
import { quantizeInt8PerChannel, type Int8Quantized } from '../compression/quantize';
import { GraphBuilder, type GraphIO } from './onnxGraph';

export interface WeightSource {
  /** a parameter by its engine name, as stored (GPT-2 Conv1D [in, out]; BERT nn.Linear [out, in]) */
  get(name: string): { shape: number[]; data: Float32Array };
  /** an int8 variant's: a weight's stored codes and scales, or undefined for one it keeps float32 (absent: a float model, every projection quantized here) */
  int8?(name: string): Int8Quantized | undefined;
  /** an int8 variant's calibrated scale of a projection's input (its name without `.weight`), or undefined: one scale per token */
  activationScale?(site: string): number | undefined;
}

export interface OnnxOptions { int8: boolean }

const NEG = -1e9; // the engine's additive mask value: exp() of it is 0 in float32

/** The operators both architectures use, bound to one graph. */
class Ops {
  constructor(readonly g: GraphBuilder, private readonly w: WeightSource, private readonly opts: OnnxOptions, readonly c: ResolvedModelConfig) {}

  param(name: string): string {
    const q = this.opts.int8 ? this.w.int8?.(name) : undefined;
    if (q) {
      const scaleShape = q.axis === 0 ? [q.shape[0], 1] : [1, q.shape[1]];
      return this.g.op('Mul', [this.g.op('Cast', [this.g.tensor(`${name}_quantized`, q.shape, q.q)], { to: 1 }), this.g.tensor(`${name}_scale`, scaleShape, q.scale)]);
    }
    const { shape, data } = this.w.get(name);
    return this.g.tensor(name, shape, data);
  }

  /** x [.., in] @ W + b, W given [in, out] (`transpose`: stored [out, in], as nn.Linear). */
  linear(x: string, name: string, transpose: boolean): string {
    const { shape, data } = this.w.get(`${name}.weight`);
    const [inDim, outDim] = transpose ? [shape[1], shape[0]] : shape;
    const w = transpose ? transposed(data, shape[0], shape[1]) : data; // [in, out]
    const given = this.w.int8?.(`${name}.weight`);
    const int8 = this.opts.int8 && (this.w.int8 ? given !== undefined : true);
    const y = int8 ? this.int8MatMul(x, `${name}.weight`, given ? codesInOut(given) : quantizeColumns(w, inDim, outDim), this.w.activationScale?.(name)) : this.g.op('MatMul', [x, this.g.tensor(`${name}.weight`, [inDim, outDim], w)]);
    return this.g.op('Add', [y, this.param(`${name}.bias`)]);
  }

  /** x @ q, q [in, out] int8 with one scale per output column; x int8 per token, or with `inputScale` when calibrated */
  private int8MatMul(x: string, name: string, q: { codes: Int8Array; scale: Float32Array; inDim: number; outDim: number }, inputScale?: number): string {
    const g = this.g;
    const { inDim, outDim } = q;
    // one symmetric int8 scale per token (row), chosen per call, or the calibrated one
    const rowScale = inputScale !== undefined ? g.scalar(Math.max(inputScale, 1e-12))
      : g.op('Div', [g.op('Max', [g.op('ReduceMax', [g.op('Abs', [x])], { axes: [-1], keepdims: 1 }), g.scalar(1e-12)]), g.scalar(127)]); // [.., 1]
    const xq = g.op('Cast', [g.op('Clip', [g.op('Round', [g.op('Div', [x, rowScale])]), g.scalar(-127), g.scalar(127)])], { to: 3 });
    const acc = g.op('MatMulInteger', [xq, g.tensor(`${name}_quantized`, [inDim, outDim], q.codes)]); // int32
    return g.op('Mul', [g.op('Mul', [g.op('Cast', [acc], { to: 1 }), rowScale]), g.tensor(`${name}_scale`, [outDim], q.scale)]);
  }

  layerNorm(x: string, name: string): string {
    return this.g.op('LayerNormalization', [x, this.param(`${name}.weight`), this.param(`${name}.bias`)], { axis: -1, epsilon: { float: this.c.layerNormEps } });
  }

  activation(x: string): string {
    const { g } = this;
    if (this.c.activation === 'gelu') { // 0.5·x·(1 + erf(x/√2))
      const e = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])]);
      return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [e, g.scalar(1)])]);
    }
    // gelu_new: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))
    const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
    const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, g.scalar(0.044715)])]), g.scalar(Math.sqrt(2 / Math.PI))]);
    return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [g.op('Tanh', [inner]), g.scalar(1)])]);
  }

  /** [B, T, d] → [B, H, T, hd] */
  heads(t: string): string {
    const { g, c } = this;
    return g.op('Transpose', [g.op('Reshape', [t, g.ints([0, 0, c.nHeads, c.headDim])])], { perm: [0, 2, 1, 3] });
  }

  /** softmax((q kᵀ)/√hd + bias) v from heads q [B, H, T, hd], k and v [B, H, S, hd], bias broadcastable to [B, H, T, S] → [B, T, H·hd] */
  attend(q: string, k: string, v: string, bias: string): string {
    const { g, c } = this;
    const scores = g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]); // [B, H, T, S]
    const probs = g.op('Softmax', [g.op('Add', [g.op('Mul', [scores, g.scalar(1 / Math.sqrt(c.headDim))]), bias])], { axis: -1 });
    const out = g.op('MatMul', [probs, v]); // [B, H, T, hd]
    return g.op('Reshape', [g.op('Transpose', [out], { perm: [0, 2, 1, 3] }), g.ints([0, 0, c.attnDim])]);
  }

  /** positions 0 … T-1 [T] of input_ids [B, T] */
  positions(ids: string): string {
    return this.g.op('Range', [this.g.ints([0], true), this.dim(ids, 1), this.g.ints([1], true)]);
  }

  /** attention_mask [B, T] (1 token, 0 padding) → additive key bias [B, 1, 1, T] */
  paddingBias(mask: string): string {
    const { g } = this;
    const m = g.op('Cast', [mask], { to: 1 });
    return g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [g.scalar(1), m]), g.scalar(NEG)]), g.ints([1, 2])]);
  }

  /** the causal bias [T, S] of T new queries after `past` cached positions over S = past + T keys: NEG where key > query */
  causalBias(past: string, T: string): string {
    const { g } = this;
    const one = g.ints([1], true);
    const total = g.op('Add', [past, T]);
    const queries = g.op('Range', [past, total, one]);
    const keys = g.op('Range', [g.ints([0], true), total, one]);
    const future = g.op('Greater', [g.op('Unsqueeze', [keys, g.ints([0])]), g.op('Unsqueeze', [queries, g.ints([1])])]);
    return g.op('Mul', [g.op('Cast', [future], { to: 1 }), g.scalar(NEG)]);
  }

  /** dimension `axis` of `t`, as an int64 scalar */
  dim(t: string, axis: number): string {
    return this.g.op('Gather', [this.g.op('Shape', [t]), this.g.ints([axis], true)], { axis: 0 });
  }

  /** x @ tableᵀ for a table stored [rows, d]: logits against the tied embedding table (stored once), or GPT-2's score [num_labels, d] */
  logitsAgainst(x: string, table: string): string {
    return this.g.op('MatMul', [x, this.g.op('Transpose', [table], { perm: [1, 0] })]);
  }
}

/** A float weight [in, out] quantized here, one scale per output column. */
function quantizeColumns(w: Float32Array, inDim: number, outDim: number) {
  const wt = tf.tensor2d(w, [inDim, outDim]);
  const q = quantizeInt8PerChannel(wt, 1);
  wt.dispose();
  return { codes: q.q, scale: q.scale, inDim, outDim };
}

/** A variant's stored codes as [in, out]: GPT-2's Conv1D codes as they are, nn.Linear's [out, in] transposed. */
function codesInOut(q: Int8Quantized) {
  const [rows, cols] = q.shape;
  return q.axis === 1 ? { codes: q.q, scale: q.scale, inDim: rows, outDim: cols } : { codes: transposed(q.q, rows, cols), scale: q.scale, inDim: cols, outDim: rows };
}

function transposed<A extends Float32Array | Int8Array>(data: A, rows: number, cols: number): A {
  const out = new (data.constructor as new (n: number) => A)(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

const tokens = (name: string): GraphIO => ({ name, type: 'int64', dims: ['batch_size', 'sequence_length'] });
const logitsOut = (V: number): GraphIO => ({ name: 'logits', type: 'float32', dims: ['batch_size', 'sequence_length', V] });
const classLogitsOut = (labels: number): GraphIO => ({ name: 'logits', type: 'float32', dims: ['batch_size', labels] });
const docOf = (cls: string, opts: OnnxOptions) => `${cls}${opts.int8 ? ', int8 projections' : ''}; written by Transformer Workbench`;

/** The graph a bundle of this model holds: the language model's (gptOnnx, bertOnnx), or for a classifier (numLabels) its class logits. */
export function bundleOnnx(c: ResolvedModelConfig, w: WeightSource, opts: OnnxOptions): Uint8Array {
  if (c.numLabels !== undefined) return c.arch === 'gpt' ? gptClassifierOnnx(c, w, opts) : bertClassifierOnnx(c, w, opts);
  return c.arch === 'gpt' ? gptOnnx(c, w, opts) : bertOnnx(c, w, opts);
}

/**
 * GPT-2's pre-LN blocks and final norm over embeddings x [B, T, d] under `bias`; `keysValues` turns layer i's
 * new keys and values [B, T, H·hd] into the heads it attends over [B, H, S, hd] (with a cache: its past
 * concatenated in front). Returns ln_f(x) [B, T, d].
 */
function gptBlocks(o: Ops, x: string, bias: string, keysValues: (i: number, k: string, v: string) => [string, string]): string {
  const { g, c } = o;
  for (let i = 0; i < c.nLayers; i++) {
    const h = `h.${i}`;
    const qkv = o.linear(o.layerNorm(x, `${h}.ln_1`), `${h}.attn.c_attn`, false); // [B, T, 3·H·hd]
    const [q, k, v] = g.opN('Split', [qkv, g.ints([c.attnDim, c.attnDim, c.attnDim])], 3, { axis: 2 });
    const [kAll, vAll] = keysValues(i, k, v);
    x = g.op('Add', [x, o.linear(o.attend(o.heads(q), kAll, vAll, bias), `${h}.attn.c_proj`, false)]);
    const m = o.activation(o.linear(o.layerNorm(x, `${h}.ln_2`), `${h}.mlp.c_fc`, false));
    x = g.op('Add', [x, o.linear(m, `${h}.mlp.c_proj`, false)]);
  }
  return o.layerNorm(x, 'ln_f');
}

/**
 * GPT2LMHeadModel with a key/value cache, as Optimum exports it for transformers.js' generate(): inputs
 * input_ids and position_ids [B, T], attention_mask [B, past + T] and past_key_values.<i>.key / .value
 * [B, H, past, hd] (past = 0 at the start); outputs logits [B, T, V] and present.<i>.key / .value
 * [B, H, past + T, hd]. Pre-LN blocks under a causal and a padding mask, final norm, tied LM head (a
 * classifier has one too: the int8 measurement of its variants reads it).
 */
export function gptOnnx(c: ResolvedModelConfig, w: WeightSource, opts: OnnxOptions): Uint8Array {
  const o = new Ops(new GraphBuilder(), w, opts, c);
  const { g } = o;
  const wte = o.param('wte.weight');
  const x = g.op('Add', [g.op('Gather', [wte, 'input_ids']), g.op('Gather', [o.param('wpe.weight'), 'position_ids'])]); // [B, T, d]
  const past = o.dim('past_key_values.0.key', 2);
  const bias = g.op('Add', [o.causalBias(past, o.dim('input_ids', 1)), o.paddingBias('attention_mask')]); // [B, 1, T, S]
  const cache: GraphIO[] = [];
  const present: GraphIO[] = [];
  const hidden = gptBlocks(o, x, bias, (i, k, v) => {
    const [kAll, vAll] = (['key', 'value'] as const).map((kind, j) => {
      const name = `past_key_values.${i}.${kind}`;
      cache.push({ name, type: 'float32', dims: ['batch_size', c.nHeads, 'past_sequence_length', c.headDim] });
      present.push({ name: `present.${i}.${kind}`, type: 'float32', dims: ['batch_size', c.nHeads, 'total_sequence_length', c.headDim] });
      return g.alias(g.op('Concat', [name, o.heads(j === 0 ? k : v)], { axis: 2 }), `present.${i}.${kind}`); // [B, H, S, hd]
    });
    return [kAll, vAll];
  });
  g.alias(o.logitsAgainst(hidden, wte), 'logits');
  const inputs: GraphIO[] = [tokens('input_ids'), { name: 'attention_mask', type: 'int64', dims: ['batch_size', 'total_sequence_length'] }, tokens('position_ids'), ...cache];
  return g.model(inputs, [logitsOut(c.vocabSize), ...present], docOf('GPT2LMHeadModel', opts));
}

/**
 * GPT2ForSequenceClassification: the blocks over positions 0 … T-1 under a causal and a padding mask, then
 * `score` (no bias) on each row's last real token, at sum(attention_mask) - 1 as the engine picks it (the
 * padding is on the right). Inputs input_ids and attention_mask [B, T]; output logits [B, num_labels].
 */
function gptClassifierOnnx(c: ResolvedModelConfig, w: WeightSource, opts: OnnxOptions): Uint8Array {
  const o = new Ops(new GraphBuilder(), w, opts, c);
  const { g } = o;
  const x = g.op('Add', [g.op('Gather', [o.param('wte.weight'), 'input_ids']), g.op('Gather', [o.param('wpe.weight'), o.positions('input_ids')])]); // [B, T, d]
  const bias = g.op('Add', [o.causalBias(g.ints([0], true), o.dim('input_ids', 1)), o.paddingBias('attention_mask')]); // [B, 1, T, T]
  const hidden = gptBlocks(o, x, bias, (_i, k, v) => [o.heads(k), o.heads(v)]);
  const last = g.op('Sub', [g.op('ReduceSum', ['attention_mask', g.ints([1])], { keepdims: 1 }), g.ints([1], true)]); // [B, 1]
  const pooled = g.op('GatherND', [hidden, last], { batch_dims: 1 }); // [B, d]
  g.alias(o.logitsAgainst(pooled, o.param('score.weight')), 'logits'); // score.weight [num_labels, d]: x @ Wᵀ
  return g.model([tokens('input_ids'), tokens('attention_mask')], [classLogitsOut(c.numLabels!)], docOf('GPT2ForSequenceClassification', opts));
}

/** BERT's embeddings and post-LN blocks under the padding mask: hidden [B, T, d], and the word table (the MLM decoder's). */
function bertEncoder(o: Ops): { hidden: string; word: string } {
  const { g, c } = o;
  const e = 'bert.embeddings';
  const word = o.param(`${e}.word_embeddings.weight`);
  let x = g.op('Add', [
    g.op('Add', [g.op('Gather', [word, 'input_ids']), g.op('Gather', [o.param(`${e}.position_embeddings.weight`), o.positions('input_ids')])]),
    g.op('Gather', [o.param(`${e}.token_type_embeddings.weight`), 'token_type_ids']),
  ]);
  x = o.layerNorm(x, `${e}.LayerNorm`);
  const bias = o.paddingBias('attention_mask');
  for (let i = 0; i < c.nLayers; i++) {
    const l = `bert.encoder.layer.${i}`;
    const [q, k, v] = ['query', 'key', 'value'].map((n) => o.linear(x, `${l}.attention.self.${n}`, true));
    x = o.layerNorm(g.op('Add', [o.linear(o.attend(o.heads(q), o.heads(k), o.heads(v), bias), `${l}.attention.output.dense`, true), x]), `${l}.attention.output.LayerNorm`);
    const y = o.linear(o.activation(o.linear(x, `${l}.intermediate.dense`, true)), `${l}.output.dense`, true);
    x = o.layerNorm(g.op('Add', [y, x]), `${l}.output.LayerNorm`);
  }
  return { hidden: x, word };
}

const bertInputs = () => [tokens('input_ids'), tokens('attention_mask'), tokens('token_type_ids')];

/** BERT's masked-LM model (a classifier's too, whose pretraining heads it still holds): the encoder, the prediction transform, tied decoder + bias. */
export function bertOnnx(c: ResolvedModelConfig, w: WeightSource, opts: OnnxOptions): Uint8Array {
  const o = new Ops(new GraphBuilder(), w, opts, c);
  const { g } = o;
  const { hidden, word } = bertEncoder(o);
  const t = o.layerNorm(o.activation(o.linear(hidden, 'cls.predictions.transform.dense', true)), 'cls.predictions.transform.LayerNorm');
  g.alias(g.op('Add', [o.logitsAgainst(t, word), o.param('cls.predictions.bias')]), 'logits');
  return g.model(bertInputs(), [logitsOut(c.vocabSize)], docOf('BertForMaskedLM', opts));
}

/** BertForSequenceClassification: the encoder, the pooler tanh(dense(x[:, 0])) on [CLS], the classifier → logits [B, num_labels]. */
function bertClassifierOnnx(c: ResolvedModelConfig, w: WeightSource, opts: OnnxOptions): Uint8Array {
  const o = new Ops(new GraphBuilder(), w, opts, c);
  const { g } = o;
  const first = g.op('Gather', [bertEncoder(o).hidden, g.ints([0], true)], { axis: 1 }); // [B, d]
  const pooled = g.op('Tanh', [o.linear(first, 'bert.pooler.dense', true)]);
  g.alias(o.linear(pooled, 'classifier', true), 'logits');
  return g.model(bertInputs(), [classLogitsOut(c.numLabels!)], docOf('BertForSequenceClassification', opts));
}
