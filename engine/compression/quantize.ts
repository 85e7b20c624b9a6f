/**
 * Post-training weight quantization:
 *  - int8 symmetric, one scale per output channel: scale_c = max|w_c| / 127, q = clamp(round(w/scale), −127, 127)
 *    (−128 is left out so that the range is symmetric and −q never overflows);
 *  - uint8 asymmetric, one scale and zero point per tensor: scale = (max − min)/255,
 *    zero_point = round(−min/scale), q = clamp(round(w/scale) + zero_point, 0, 255).
 * Rounding is half to even, as torch.round. The arithmetic runs in float64 in JS on the float32 weights: it
 * happens once per export, and so gives the same codes on every backend.
 * Reference: ../shared/reference/gen_golden.py `compression`.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface Int8Quantized {
  kind: 'int8-symmetric-per-channel';
  shape: number[];
  /** the output-channel axis: 0 for nn.Linear / BERT weights [out, in], 1 for GPT-2 Conv1D weights [in, out] */
  axis: number;
  q: Int8Array;
  /** one per channel along `axis` */
  scale: Float32Array;
}

export interface Uint8Quantized {
  kind: 'uint8-asymmetric-per-tensor';
  shape: number[];
  q: Uint8Array;
  scale: number;
  zeroPoint: number;
}

export type Quantized = Int8Quantized | Uint8Quantized;

/** Round half to even (torch.round, numpy.round); Math.round rounds halves up. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Symmetric int8 with a scale per output channel; w is 2-D, axis names the output channels. */
export function quantizeInt8PerChannel(w: tf.Tensor, axis = 0): Int8Quantized {
  if (w.rank !== 2) throw new Error(`quantizeInt8PerChannel: expected a 2-D weight, got [${w.shape}]`);
  if (axis !== 0 && axis !== 1) throw new Error(`quantizeInt8PerChannel: axis ${axis} must be 0 ([out, in] weights) or 1 ([in, out] weights)`);
  const [rows, cols] = w.shape;
  const data = w.dataSync();
  const channels = axis === 0 ? rows : cols;
  const channelOf = (i: number) => (axis === 0 ? Math.floor(i / cols) : i % cols);
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < data.length; i++) maxAbs[channelOf(i)] = Math.max(maxAbs[channelOf(i)], Math.abs(data[i]));
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scale[c] = maxAbs[c] / 127;
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const s = maxAbs[channelOf(i)] / 127;
    q[i] = s > 0 ? clamp(roundHalfEven(data[i] / s), -127, 127) : 0; // an all-zero channel stays zero
  }
  return { kind: 'int8-symmetric-per-channel', shape: [rows, cols], axis, q, scale };
}

/**
 * Asymmetric uint8 with one scale and zero point for the whole tensor. The range is widened to include 0
 * (as PyTorch's observers do) so that zero is exact and the zero point fits in [0, 255]; for weights with
 * both signs, the usual case, this changes nothing.
 */
export function quantizeUint8PerTensor(w: tf.Tensor): Uint8Quantized {
  const data = w.dataSync();
  let min = 0;
  let max = 0;
  for (let i = 0; i < data.length; i++) { min = Math.min(min, data[i]); max = Math.max(max, data[i]); }
  const scale = max > min ? (max - min) / 255 : 1;
  const zeroPoint = roundHalfEven(-min / scale) + 0; // + 0 turns −0 (min = 0) into 0
  const q = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) q[i] = clamp(roundHalfEven(data[i] / scale) + zeroPoint, 0, 255);
  return { kind: 'uint8-asymmetric-per-tensor', shape: w.shape.slice(), q, scale, zeroPoint };
}

/** Back to float32: q·scale (int8) or (q − zero_point)·scale (uint8). */
export function dequantize(t: Quantized): tf.Tensor {
  return tf.tensor(dequantizedValues(t), t.shape, 'float32');
}

/** dequantize's values as a plain array (an int8 checkpoint opens into them without a tensor in between). */
export function dequantizedValues(t: Quantized): Float32Array {
  const out = new Float32Array(t.q.length);
  if (t.kind === 'int8-symmetric-per-channel') {
    const cols = t.shape[1];
    for (let i = 0; i < out.length; i++) out[i] = t.q[i] * t.scale[t.axis === 0 ? Math.floor(i / cols) : i % cols];
  } else {
    for (let i = 0; i < out.length; i++) out[i] = (t.q[i] - t.zeroPoint) * t.scale;
  }
  return out;
}

/** Bytes the quantized weight takes on disk (codes plus scales), to report the compression achieved. */
export function quantizedBytes(t: Quantized): number {
  return t.q.byteLength + (t.kind === 'int8-symmetric-per-channel' ? t.scale.byteLength : 8);
}
