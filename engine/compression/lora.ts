/**
 * LoRA (Hu et al. 2021) on a linear layer: the frozen weight W is adapted by a low-rank product,
 *
 *   y = x Wᵀ + b + (alpha / r) · (x Aᵀ) Bᵀ,   A [r, in], B [out, r]
 *
 * Only A and B train; B starts at zero so the adapted layer starts equal to the base one. Names and
 * layouts follow PEFT (`{module}.lora_A.weight` [r, in], `{module}.lora_B.weight` [out, r]), so adapters
 * load there. Reference: ../shared/reference/gen_golden.py `compression`.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface LoraConfig {
  r: number;
  alpha: number;
}

/** The base layer. layout: 'out_in' for nn.Linear / BERT weights [out, in]; 'in_out' for GPT-2 Conv1D [in, out]. */
export interface LinearWeights {
  weight: tf.Tensor; // [out, in] or [in, out]
  bias?: tf.Tensor; //  [out]
  layout: 'out_in' | 'in_out';
}

export interface LoraWeights {
  A: tf.Tensor; // [r, in]
  B: tf.Tensor; // [out, r]
}

/**
 * x [..., in] → y [..., out]. Every product is an untransposed 2-D matMul (the fast one on wasm): the
 * small A and B, and W when it is [out, in], are transposed explicitly first. To keep W frozen, hold it in
 * a tf.Variable made with trainable = false (or leave it out of the variables you differentiate).
 */
export function loraLinear(x: tf.Tensor, base: LinearWeights, lora: LoraWeights, cfg: LoraConfig): tf.Tensor {
  const inF = x.shape[x.rank - 1] as number;
  const [r, aIn] = lora.A.shape as number[];
  const [w0, w1] = base.weight.shape as number[];
  const [outF, wIn] = base.layout === 'out_in' ? [w0, w1] : [w1, w0];
  if (wIn !== inF || aIn !== inF) throw new Error(`loraLinear: x has ${inF} features but W is [${base.weight.shape}] (${base.layout}) and lora_A is [${lora.A.shape}]; lora_A must be [r, ${inF}]`);
  if (lora.B.shape.join() !== [outF, r].join()) throw new Error(`loraLinear: lora_B is [${lora.B.shape}], expected [${outF}, ${r}] (out, r)`);
  if (r !== cfg.r) throw new Error(`loraLinear: lora_A has rank ${r} but the config says r = ${cfg.r}`);
  return tf.tidy(() => {
    const x2 = tf.reshape(x, [-1, inF]); // [N, in]
    const wT = base.layout === 'out_in' ? tf.transpose(base.weight) : base.weight; // [in, out]
    let y = tf.matMul(x2, wT); // [N, out]
    if (base.bias) y = tf.add(y, base.bias);
    const down = tf.matMul(x2, tf.transpose(lora.A)); // [N, r]
    const up = tf.matMul(down, tf.transpose(lora.B)); // [N, out]
    y = tf.add(y, tf.mul(up, cfg.alpha / cfg.r));
    return tf.reshape(y, [...(x.shape.slice(0, -1) as number[]), outF]); // [..., out]
  });
}

/**
 * Fresh adapter variables for the module `prefix` (e.g. `h.0.attn.c_attn`), PEFT's init: A uniform in
 * ±1/√in (kaiming_uniform with a = √5), B zeros.
 */
export function createLoraParams(prefix: string, inFeatures: number, outFeatures: number, cfg: LoraConfig, seed?: number): Record<string, tf.Variable> {
  if (!Number.isInteger(cfg.r) || cfg.r < 1) throw new Error(`LoRA r ${cfg.r} must be a positive integer`);
  const bound = 1 / Math.sqrt(inFeatures);
  const A = tf.randomUniform([cfg.r, inFeatures], -bound, bound, 'float32', seed);
  const B = tf.zeros([outFeatures, cfg.r]);
  // the keys carry the names; TF.js's own variable names must be unique per process, so they are left to it
  const out = { [`${prefix}.lora_A.weight`]: tf.variable(A, true), [`${prefix}.lora_B.weight`]: tf.variable(B, true) };
  tf.dispose([A, B]);
  return out;
}

/** W + (alpha/r)·B A in the base layout: the adapter folded into the weight, for export or fast inference. */
export function mergeLora(base: LinearWeights, lora: LoraWeights, cfg: LoraConfig): tf.Tensor {
  return tf.tidy(() => {
    const delta = tf.mul(tf.matMul(lora.B, lora.A), cfg.alpha / cfg.r); // [out, in]
    return tf.add(base.weight, base.layout === 'out_in' ? delta : tf.transpose(delta));
  });
}
