/**
 * Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs"): softmax(q·k) is replaced by the
 * kernel φ(q)·φ(k) with φ(x) = elu(x) + 1, so attention becomes associative and costs O(T) in sequence length:
 *
 *   out_i = φ(q_i) · S_i / (φ(q_i) · z_i),   S_i = Σ_j φ(k_j) v_jᵀ,  z_i = Σ_j φ(k_j)
 *
 * with j over all positions (non-causal) or j ≤ i (causal). No 1/√d scaling, as in the paper.
 * Reference: ../shared/reference/gen_golden.py `linear_attention_moe`.
 *
 * The normaliser rides along with the values: V' = [V, 1] makes the last column of φ(q)·S' equal to
 * φ(q)·z, so numerator and denominator come out of the same matMuls.
 *
 * Causal cost. The textbook form (the reference's) takes a cumulative sum over the outer products
 * φ(k_j) v_jᵀ, which holds a [B, H, T, hd, dv] tensor: T·hd times the size of v, 1 GiB at B·H = 64,
 * T = 1024, hd = 64. This file computes the same sums chunk by chunk instead: within a chunk of C
 * positions the masked C×C scores φ(Q)φ(K)ᵀ (like softmax attention, exact and cheap for small C);
 * across chunks a running state S of [hd, dv] per chunk (an exclusive cumsum over T/C chunk states).
 * Memory: B·H·T·(C + hd·dv/C) floats, a few times the size of q for C near hd.
 * Time: O(B·H·T·(C + dv)·hd). chunkSize = T gives the quadratic masked form; chunkSize = 1 the pure
 * recurrent form; any choice gives the same result up to float rounding. Measured forward+backward on
 * wasm (2 cores): B4 H4 T512 hd32 takes 85–90 ms with C = 16–32, 127 ms with C = 64, 1.1 s with C = T,
 * against 1.2 s for unmasked softmax attention; the batched matMuls here take wasm's slow path, so
 * small chunks win there.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface LinearAttentionOptions {
  /** j ≤ i only (decoder) or all positions (encoder) */
  causal: boolean;
  /** causal only: positions per chunk; default min(T, 32), the fastest on wasm and cpu for head sizes 16–64 */
  chunkSize?: number;
}

/** φ(x) = elu(x) + 1: positive, so the normaliser φ(q)·z never vanishes, and smooth at 0. */
export function eluFeatureMap(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.elu(x), 1);
}

/** Appends a column of ones to [..., dv], so that sums over V' carry Σ φ(k) in their last column. */
function withOnes(v: tf.Tensor): tf.Tensor {
  return tf.concat([v, tf.onesLike(tf.slice(v, new Array(v.rank).fill(0), [...v.shape.slice(0, -1), 1]))], -1);
}

/** Numerator columns over the last (normaliser) column: [..., dv+1] → [..., dv]. */
function normalise(numDen: tf.Tensor, dv: number): tf.Tensor {
  const begin = new Array(numDen.rank).fill(0);
  const num = tf.slice(numDen, begin, [...numDen.shape.slice(0, -1), dv]);
  const den = tf.slice(numDen, [...begin.slice(0, -1), dv], [...numDen.shape.slice(0, -1), 1]);
  return tf.div(num, den);
}

/** The lower-triangular ones (diagonal included) of a causal chunk. */
function causalMask(C: number): tf.Tensor2D {
  const m = new Float32Array(C * C);
  for (let i = 0; i < C; i++) for (let j = 0; j <= i; j++) m[i * C + j] = 1;
  return tf.tensor2d(m, [C, C]);
}

/**
 * q, k [B, H, T, hd] and v [B, H, T, dv] → [B, H, T, dv]. Differentiable with tf.grad / variableGrads on
 * every backend (elu, matMul, cumsum, pad, slice, concat; no gather).
 */
export function linearAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, opts: LinearAttentionOptions): tf.Tensor4D {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new Error(`linearAttention: q, k and v must be [B, H, T, headDim]; got [${q.shape}], [${k.shape}], [${v.shape}]`);
  }
  if (q.shape.join() !== k.shape.join() || v.shape.slice(0, 3).join() !== q.shape.slice(0, 3).join()) {
    throw new Error(`linearAttention: q [${q.shape}] and k [${k.shape}] must match, and v [${v.shape}] must share their B, H, T`);
  }
  return tf.tidy(() => (opts.causal ? causalLinearAttention(q, k, v, opts.chunkSize) : nonCausalLinearAttention(q, k, v)));
}

function nonCausalLinearAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D {
  const dv = v.shape[3];
  const Q = eluFeatureMap(q); // [B, H, T, hd]
  const K = eluFeatureMap(k); // [B, H, T, hd]
  const kv = tf.matMul(K, withOnes(v), true, false); // [B, H, hd, dv+1]: Σ_j φ(k_j)[v_j, 1]ᵀ
  return normalise(tf.matMul(Q, kv), dv) as tf.Tensor4D; // [B, H, T, dv]
}

function causalLinearAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, chunkSize?: number): tf.Tensor4D {
  const [B, H, T, hd] = q.shape;
  const dv = v.shape[3];
  if (chunkSize !== undefined && !(Number.isInteger(chunkSize) && chunkSize >= 1)) {
    throw new Error(`linearAttention: chunkSize ${chunkSize} must be a positive integer`);
  }
  const C = Math.min(T, chunkSize ?? 32);
  const n = Math.ceil(T / C);
  const pad = n * C - T;
  // Padding goes at the end, before φ: φ(0) = 1 keeps the padded rows' denominators positive (no 0/0 that
  // would turn their zero gradients into NaN), and causality keeps padded keys away from real rows.
  const padT = (x: tf.Tensor4D) => (pad ? tf.pad(x, [[0, 0], [0, 0], [0, pad], [0, 0]]) : x);
  const Q = tf.reshape(eluFeatureMap(padT(q)), [B * H * n, C, hd]); // [BHn, C, hd]
  const K = tf.reshape(eluFeatureMap(padT(k)), [B * H * n, C, hd]); // [BHn, C, hd]
  const V = withOnes(tf.reshape(padT(v), [B * H * n, C, dv])); // [BHn, C, dv+1]

  // within each chunk: exact causal sums over j ≤ i
  const scores = tf.mul(tf.matMul(Q, K, false, true), causalMask(C)); // [BHn, C, C]
  let numDen = tf.matMul(scores, V); // [BHn, C, dv+1]

  if (n > 1) {
    // across chunks: what every earlier chunk contributes, Σ over previous chunks of φ(K)ᵀ[V, 1]
    // (the cumsum runs along the last axis: TF.js 4.22's Cumsum gradient transposes wrongly on any other axis)
    const chunkState = tf.transpose(tf.reshape(tf.matMul(K, V, true, false), [B * H, n, hd * (dv + 1)]), [0, 2, 1]); // [BH, hd·(dv+1), n]
    const beforeT = tf.cumsum(chunkState, 2, true); // [BH, hd·(dv+1), n] exclusive: chunks strictly before
    const before = tf.reshape(tf.transpose(beforeT, [0, 2, 1]), [B * H * n, hd, dv + 1]); // [BHn, hd, dv+1]
    numDen = tf.add(numDen, tf.matMul(Q, before)); // [BHn, C, dv+1]
  }
  const out = tf.reshape(normalise(numDen, dv), [B, H, n * C, dv]); // [B, H, T+pad, dv]
  return (pad ? tf.slice(out, [0, 0, 0, 0], [B, H, T, dv]) : out) as tf.Tensor4D; // [B, H, T, dv]
}
