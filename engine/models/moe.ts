/**
 * Top-K mixture-of-experts feed-forward block, routed as in Mixtral and balanced as in Switch Transformer:
 *
 *   probs = softmax(x W_gate)                               router probabilities        [N, E]
 *   the K largest per token, renormalised to sum to 1       gates                        [N, K]
 *   y = Σ_k gate_k · expert_{idx_k}(x),   expert_e(x) = gelu_new(x W1_e + b1_e) W2_e + b2_e  (a GPT-2 MLP)
 *   aux = E · Σ_e f_e · P_e,   f_e = (token-slots routed to e) / N,   P_e = mean_n probs[n, e]
 *
 * The aux loss is Hugging Face's load_balancing_loss_func; f counts every top-k slot, so a perfectly
 * balanced router gives aux = K. Choosing the top K is not differentiable, the gate values are: gradients
 * reach W_gate through the gates and through P in the aux loss.
 * Reference: ../shared/reference/gen_golden.py `linear_attention_moe`.
 *
 * Dispatch is dense: every expert runs on every token and unrouted outputs are weighted by a zero gate.
 * That costs E/K times the FFN FLOPs of sparse dispatch, but it is two plain 2-D matMuls (the only fast
 * matMul on wasm) and needs no gather, whose gradient wasm lacks; sparse dispatch by one-hot matMuls
 * would cost O(N²·d) and lose at any useful N. Measured on wasm (2 cores), forward+backward at
 * N = 768, d = 128, ff = 512: 193 ms for E = 4, K = 2, against 52 ms for one dense MLP of the same width.
 * Worth revisiting (gather-based dispatch) for many experts, once wasm has the gradient of gather.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bias, weight, type ParamSpec } from './params';

/** The parameters of one MoE block, stacked over experts (the layout of the reference). */
export interface MoeParams {
  wGate: tf.Tensor; // [d, E]   router, x W_gate (GPT-2 Conv1D layout, [in, out]), no bias
  w1: tf.Tensor; //    [E, d, ff]
  b1: tf.Tensor; //    [E, ff]
  w2: tf.Tensor; //    [E, ff, d]
  b2: tf.Tensor; //    [E, d]
}

export interface MoeOptions {
  topK: number;
  /** the experts' nonlinearity: GPT-2's tanh approximation (the reference) or BERT's erf form */
  activation?: 'gelu_new' | 'gelu';
}

export interface MoeOutput {
  y: tf.Tensor; //           [N, d]
  auxLoss: tf.Scalar; //     load-balancing loss; add auxLossWeight × this to the training loss
  topKIndices: tf.Tensor; // [N, K] int32, largest probability first
  gates: tf.Tensor; //       [N, K] renormalised gate of each chosen expert
  routerProbs: tf.Tensor; // [N, E]
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GPT-2's gelu_new, 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), written as x·sigmoid(2√(2/π)(x + 0.044715x³))
 * (the same function, since 1 + tanh(u) = 2·sigmoid(2u)): fewer kernels forward and backward, all present on wasm.
 */
export function geluNew(x: tf.Tensor): tf.Tensor {
  const c = 2 * SQRT_2_OVER_PI;
  const inner = tf.mul(x, tf.add(tf.mul(tf.square(x), c * 0.044715), c)); // 2√(2/π)(x + 0.044715x³)
  return tf.mul(x, tf.sigmoid(inner));
}

/** BERT's exact gelu, 0.5·x·(1 + erf(x/√2)). */
export function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/**
 * The one-hot of each token's top-K experts, [N, E] → [N, K, E], largest first. The choice is a constant to
 * autodiff: TF.js has no gradient for TopK, and the picks have none anyway, so the selection runs inside a
 * custom gradient that returns zeros (tf.grad would otherwise walk the tape into TopK and throw).
 */
const topKSlots = (probs: tf.Tensor, K: number, E: number): tf.Tensor => tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const p = args[0] as tf.Tensor;
  return {
    value: tf.tidy(() => tf.cast(tf.oneHot(tf.topk(p, K).indices, E), 'float32')),
    gradFunc: () => tf.zerosLike(p),
  };
})(probs);

/** x [N, d] → y [N, d] with routing details; see the file comment for the math. */
export function moeFeedForward(x: tf.Tensor, p: MoeParams, opts: MoeOptions): MoeOutput {
  if (x.rank !== 2) throw new Error(`moeFeedForward: x must be [tokens, d]; got [${x.shape}] (reshape [B, T, d] to [B·T, d] first)`);
  const [N, d] = x.shape;
  const [E, dIn, ff] = p.w1.shape;
  const K = opts.topK;
  if (p.wGate.shape.join() !== [d, E].join()) throw new Error(`moeFeedForward: wGate is [${p.wGate.shape}], expected [${d}, ${E}] (d, experts)`);
  if (dIn !== d || p.w2.shape.join() !== [E, ff, d].join() || p.b1.shape.join() !== [E, ff].join() || p.b2.shape.join() !== [E, d].join()) {
    throw new Error(`moeFeedForward: expert shapes w1 [${p.w1.shape}], b1 [${p.b1.shape}], w2 [${p.w2.shape}], b2 [${p.b2.shape}] do not fit d ${d}: expected [E, d, ff], [E, ff], [E, ff, d], [E, d]`);
  }
  if (!Number.isInteger(K) || K < 1 || K > E) throw new Error(`moeFeedForward: topK ${K} must be an integer in 1 … ${E} (the number of experts)`);
  const act = opts.activation === 'gelu' ? geluErf : geluNew;

  return tf.tidy(() => {
    // router
    const routerProbs = tf.softmax(tf.matMul(x, p.wGate)); // [N, E]
    const slotMask = topKSlots(routerProbs, K, E); // [N, K, E] one-hot per slot, no gradient
    const topKIndices = tf.argMax(slotMask, 2); // [N, K] int32
    const chosen = tf.sum(slotMask, 1); // [N, E] 1 where e is among the token's top K
    const picked = tf.mul(routerProbs, chosen); // [N, E] the chosen probabilities, differentiable
    const gateDense = tf.div(picked, tf.sum(picked, 1, true)); // [N, E] renormalised, 0 off the top K
    const gates = tf.sum(tf.mul(slotMask, tf.expandDims(gateDense, 1)), 2); // [N, K] in top-k order

    // experts, all at once: [d, E·ff] and [E·ff, d] make each layer one 2-D matMul
    const w1All = tf.reshape(tf.transpose(p.w1, [1, 0, 2]), [d, E * ff]); // [d, E·ff]
    const h = act(tf.add(tf.matMul(x, w1All), tf.reshape(p.b1, [E * ff]))); // [N, E·ff]
    // weighting each expert's hidden units by its gate before W2 sums Σ_e gate_e (h_e W2_e) in one matMul
    const hGated = tf.reshape(tf.mul(tf.reshape(h, [N, E, ff]), tf.expandDims(gateDense, 2)), [N, E * ff]); // [N, E·ff]
    const y = tf.add(tf.matMul(hGated, tf.reshape(p.w2, [E * ff, d])), tf.matMul(gateDense, p.b2)); // [N, d]

    // load balancing: fraction of token-slots per expert (constant) times mean router probability
    const fraction = tf.div(tf.sum(chosen, 0), N); // [E]
    const auxLoss = tf.mul(tf.sum(tf.mul(fraction, tf.mean(routerProbs, 0))), E) as tf.Scalar; // []
    return { y, auxLoss, topKIndices, gates, routerProbs };
  });
}

// ---------------------------------------------------------------- named parameters

/**
 * Names of one MoE block's parameters, Hugging Face style, under `prefix` (for GPT: `h.{i}.mlp`, where the
 * dense MLP's c_fc / c_proj would be). Every expert is a GPT-2 MLP with Conv1D layouts ([in, out]):
 *   {prefix}.gate.weight                  [d, E]    router (no bias)
 *   {prefix}.experts.{e}.c_fc.weight      [d, ff]
 *   {prefix}.experts.{e}.c_fc.bias        [ff]
 *   {prefix}.experts.{e}.c_proj.weight    [ff, d]
 *   {prefix}.experts.{e}.c_proj.bias      [d]
 * Per-expert tensors (not stacked ones) so that an exported checkpoint reads like Mixtral's
 * `block_sparse_moe.experts.{e}.*` and one expert can be inspected or pruned by name.
 */
export function moeParamNames(prefix: string, experts: number) {
  const expert = (e: number) => ({
    w1: `${prefix}.experts.${e}.c_fc.weight`,
    b1: `${prefix}.experts.${e}.c_fc.bias`,
    w2: `${prefix}.experts.${e}.c_proj.weight`,
    b2: `${prefix}.experts.${e}.c_proj.bias`,
  });
  return { gate: `${prefix}.gate.weight`, experts: Array.from({ length: experts }, (_, e) => expert(e)) };
}

/** The prefix of layer i's MoE block in a GPT model. */
export const gptMoePrefix = (layer: number) => `h.${layer}.mlp`;

/** The block's parameters as ParamSpecs for the model's ParamStore (router and expert weights decay, biases not). */
export function moeParamSpecs(prefix: string, dims: { dModel: number; dFF: number; experts: number }): ParamSpec[] {
  const { dModel: d, dFF: ff, experts: E } = dims;
  const names = moeParamNames(prefix, E);
  return [
    weight(names.gate, [d, E]),
    ...names.experts.flatMap((n) => [weight(n.w1, [d, ff]), bias(n.b1, [ff]), weight(n.w2, [ff, d]), bias(n.b2, [d])]),
  ];
}

export interface MoeInit {
  dModel: number;
  dFF: number;
  experts: number;
  /** std of the normal init of the router and c_fc weights (GPT-2: 0.02) */
  std: number;
  /** std for c_proj weights; GPT-2 scales it by 1/√(2·nLayers); default std */
  projStd?: number;
  seed?: number;
}

/**
 * Fresh trainable variables for one MoE block outside a ParamStore, keyed by moeParamNames; biases start
 * at zero. The keys carry the names: the tf.Variables get TF.js's unique ones, so two blocks (a teacher's
 * and a student's) may share a prefix.
 */
export function createMoeParams(prefix: string, init: MoeInit): Record<string, tf.Variable> {
  const projStd = init.projStd ?? init.std;
  let seed = init.seed;
  const out: Record<string, tf.Variable> = {};
  for (const spec of moeParamSpecs(prefix, init)) {
    const value = tf.tidy(() => {
      if (spec.init === 'zeros') return tf.zeros(spec.shape);
      const std = spec.name.endsWith('.c_proj.weight') ? projStd : init.std;
      return tf.randomNormal(spec.shape, 0, std, 'float32', seed === undefined ? undefined : seed++);
    });
    out[spec.name] = tf.variable(value, true);
    value.dispose();
  }
  return out;
}

/** Stacks the named per-expert tensors into MoeParams (differentiable: call it inside the loss function). */
export function moeParamsFromNamed(named: Record<string, tf.Tensor>, prefix: string, experts: number): MoeParams {
  const names = moeParamNames(prefix, experts);
  const get = (name: string) => {
    const t = named[name];
    if (!t) throw new Error(`MoE parameter '${name}' is missing; create the block with createMoeParams('${prefix}', …) and ${experts} experts`);
    return t;
  };
  return {
    wGate: get(names.gate),
    w1: tf.stack(names.experts.map((n) => get(n.w1))), // [E, d, ff]
    b1: tf.stack(names.experts.map((n) => get(n.b1))), // [E, ff]
    w2: tf.stack(names.experts.map((n) => get(n.w2))), // [E, ff, d]
    b2: tf.stack(names.experts.map((n) => get(n.b2))), // [E, d]
  };
}
