/**
 * Fixed positional encodings: the sinusoidal table of "Attention is all you need" and rotary embeddings
 * (RoPE, GPT-NeoX / LLaMA "rotate half" convention). Both tables are computed in float64 in JS and
 * handed to TF.js once, so they carry no float32 drift at large positions and cost no kernels.
 * Reference: ../shared/reference/gen_golden.py `positions`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d)); added to token embeddings. */
export function sinusoidalTable(n: number, d: number): tf.Tensor2D {
  if (!Number.isInteger(n) || n < 1) throw new Error(`sinusoidalTable: n ${n} must be a positive integer (the number of positions)`);
  if (!Number.isInteger(d) || d < 2 || d % 2 !== 0) throw new Error(`sinusoidalTable: d ${d} must be a positive even integer, since sin and cos come in pairs`);
  const table = new Float32Array(n * d);
  for (let i = 0; i < d; i += 2) {
    // the same expression as the reference, exp(2i · -ln(10000)/d), so the frequencies agree to the last bit of float64
    const freq = Math.exp(i * (-Math.log(10000) / d));
    for (let pos = 0; pos < n; pos++) {
      table[pos * d + i] = Math.sin(pos * freq);
      table[pos * d + i + 1] = Math.cos(pos * freq);
    }
  }
  return tf.tensor2d(table, [n, d]); // [n, d]
}

/**
 * The cos and sin tables of RoPE for positions offset … offset+T-1, laid out for the rotate-half form:
 * column j and column j + hd/2 share frequency base^(-2j/hd). `sinSigned` has its first half negated, so
 * that x·cos + rotateHalf(x)·sin = x·cos + swapHalves(x)·sinSigned needs no negation kernel.
 */
export function ropeTables(T: number, headDim: number, base = 10000, offset = 0): { cos: tf.Tensor2D; sinSigned: tf.Tensor2D } {
  return ropeTablesAt(Array.from({ length: T }, (_, t) => offset + t), headDim, base);
}

/** The tables of ropeTables for any list of positions (rows of a batch that sit at different positions), [N, hd] each. */
export function ropeTablesAt(positions: ArrayLike<number>, headDim: number, base = 10000): { cos: tf.Tensor2D; sinSigned: tf.Tensor2D } {
  if (headDim % 2 !== 0) throw new Error(`applyRope: head size ${headDim} is odd; RoPE rotates pairs of dimensions, so use an even head size (dModel / nHeads)`);
  const half = headDim / 2;
  const N = positions.length;
  const cos = new Float32Array(N * headDim);
  const sin = new Float32Array(N * headDim);
  for (let j = 0; j < half; j++) {
    const invFreq = 1 / base ** ((2 * j) / headDim);
    for (let t = 0; t < N; t++) {
      const angle = positions[t] * invFreq;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[t * headDim + j] = c;
      cos[t * headDim + j + half] = c;
      sin[t * headDim + j] = -s;
      sin[t * headDim + j + half] = s;
    }
  }
  return { cos: tf.tensor2d(cos, [N, headDim]), sinSigned: tf.tensor2d(sin, [N, headDim]) };
}

/**
 * Rotates queries or keys x [B, H, T, hd] by their positions (offset + t): the rotate-half RoPE of
 * GPT-NeoX / LLaMA with frequency base `base`. `offset` is the position of the first row, for decoding
 * with a cache of earlier keys. Differentiable (slices, concat and products only).
 */
export function applyRope<R extends tf.Rank>(x: tf.Tensor<R>, base = 10000, offset = 0): tf.Tensor<R> {
  if (x.rank !== 4) throw new Error(`applyRope: expected x of shape [B, H, T, headDim], got [${x.shape.join(', ')}]`);
  const [, , T, hd] = x.shape as number[];
  return tf.tidy(() => rotateHalf(x, ropeTables(T, hd, base, offset))); // tables [T, hd], broadcast over B and H
}

/**
 * applyRope for a batch whose rows sit at different positions (a padded batch being decoded):
 * `positions` [B·T] gives the position of each row's each token.
 */
export function applyRopeAt<R extends tf.Rank>(x: tf.Tensor<R>, positions: ArrayLike<number>, base = 10000): tf.Tensor<R> {
  const [B, , T, hd] = x.shape as number[];
  if (x.rank !== 4 || positions.length !== B * T) throw new Error(`applyRopeAt: expected x [B, H, T, headDim] and B·T positions, got [${x.shape.join(', ')}] and ${positions.length}`);
  return tf.tidy(() => {
    const t = ropeTablesAt(positions, hd, base);
    return rotateHalf(x, { cos: tf.reshape(t.cos, [B, 1, T, hd]), sinSigned: tf.reshape(t.sinSigned, [B, 1, T, hd]) }); // [B, 1, T, hd], broadcast over H
  });
}

function rotateHalf<R extends tf.Rank>(x: tf.Tensor<R>, t: { cos: tf.Tensor; sinSigned: tf.Tensor }): tf.Tensor<R> {
  const hd = x.shape[3]!;
  const half = hd / 2;
  const x1 = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]); // [B, H, T, hd/2]
  const x2 = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, half]); // [B, H, T, hd/2]
  const swapped = tf.concat([x2, x1], 3); // [B, H, T, hd]; times sinSigned gives rotate_half(x)·sin
  return tf.add(tf.mul(x, t.cos), tf.mul(swapped, t.sinSigned)) as tf.Tensor<R>; // [B, H, T, hd]
}
