/**
 * Fake quantization in TensorFlow.js: a tensor rounded to the int8 grid and straight back to float32, so the
 * float model computes what its int8 form computes. It is what quantization-aware training trains through
 * (straight-through estimator: the gradient passes the rounding as if it were the identity, and is zero
 * where a static range clips) and what an int8 variant runs with in TF.js (its activations; its weights are
 * already dequantized when it is opened).
 *
 *  - weights: symmetric, one scale per output channel, scale = max|w_c| / 127 (./quantize.ts's rule);
 *  - activations, dynamic: symmetric, one scale per token (row), max(max|x_row|, 1e-12) / 127, as the int8
 *    ONNX graph computes it (engine/export/onnxModels.ts);
 *  - activations, static: one calibrated scale per projection input (./calibrate.ts).
 * Rounding is half to even (tf.round), as torch.round and ONNX Round.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationView } from '../models/base';
import type { WeightView } from '../models/params';

const QMAX = 127;

/** x rounded to the grid of `scale` (broadcast against x) and back; a zero scale maps to zero. */
function roundTrip(x: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  const safe = tf.where(tf.greater(scale, 0), scale, tf.onesLike(scale));
  return tf.mul(tf.clipByValue(tf.round(tf.div(x, safe)), -QMAX, QMAX), scale);
}

/** The per-channel scales of a 2-D weight, shaped to broadcast: [out, 1] for axis 0, [1, out] for axis 1. */
export function channelScales(w: tf.Tensor2D, axis: 0 | 1): tf.Tensor2D {
  return tf.div(tf.max(tf.abs(w), 1 - axis, true), QMAX) as tf.Tensor2D;
}

/**
 * `round(x)` forward; backward the gradient as it comes (the straight-through estimator), times `pass(x)`
 * where that is given (1 inside a fixed range, 0 where it clips).
 */
function straightThrough(x: tf.Tensor, round: (x: tf.Tensor) => tf.Tensor, pass?: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const f = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([t]);
    return { value: round(t), gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => (pass ? tf.mul(dy, pass(saved)) : dy) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x);
}

/** quantize → dequantize of a weight, per output channel along `axis`; the gradient passes straight through. */
export function fakeQuantWeight(w: tf.Tensor2D, axis: 0 | 1): tf.Tensor2D {
  return straightThrough(w, (t) => roundTrip(t, channelScales(t as tf.Tensor2D, axis))) as tf.Tensor2D;
}

/** quantize → dequantize of activation rows x [N, d] with one scale per row, chosen from the row; straight-through gradient. */
export function fakeQuantPerToken(x: tf.Tensor2D): tf.Tensor2D {
  return straightThrough(x, (t) => roundTrip(t, tf.div(tf.maximum(tf.max(tf.abs(t), -1, true), 1e-12), QMAX))) as tf.Tensor2D;
}

/** quantize → dequantize with a fixed scale; the gradient passes where |x| is inside the range and is zero where it clips. */
export function fakeQuantStatic(x: tf.Tensor2D, scale: number): tf.Tensor2D {
  return straightThrough(x, (t) => roundTrip(t, tf.scalar(scale)), (t) => tf.cast(tf.lessEqual(tf.abs(t), QMAX * scale), 'float32')) as tf.Tensor2D;
}

/** The weight view of quantization-aware training: the weights in `axes` (name → output-channel axis) fake-quantized, the rest as stored. */
export function fakeQuantWeightView(axes: ReadonlyMap<string, 0 | 1>): WeightView {
  return (name, stored) => {
    const axis = axes.get(name);
    return axis === undefined ? stored : fakeQuantWeight(stored as tf.Tensor2D, axis);
  };
}

/**
 * The activation view of an int8 model: the input of every projection whose weight is int8 (`sites`, the
 * projections' names) fake-quantized per token, or with its calibrated scale when `scales` holds one.
 */
export function fakeQuantActivationView(sites: ReadonlySet<string>, scales?: Readonly<Record<string, number>>): ActivationView {
  return (site, x) => {
    if (!sites.has(site)) return x;
    const s = scales?.[site];
    return s === undefined ? fakeQuantPerToken(x) : fakeQuantStatic(x, s);
  };
}
