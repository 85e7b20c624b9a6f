/**
 * An int8 variant's weights on disk, inside an ordinary checkpoint's model.safetensors: each int8 weight is
 * its codes as I8 under the parameter's own name, beside its per-channel scales as F32 under `<name>_scale`,
 * shaped [out, 1] (channels along axis 0) or [1, out] (axis 1) so the file says the axis and `codes × scale`
 * broadcasts. Floats come first, then the scales, then the codes, so every F32 tensor stays 4-byte aligned.
 * Opening the checkpoint dequantizes them (the model computes in float32) and keeps the codes, which the
 * int8 ONNX export then writes as they are.
 */
import type { SerializedTensor } from '../training/adamw';
import type { DecodedTensor, NamedTensor } from '../runs/safetensors';
import { dequantizedValues, type Int8Quantized } from './quantize';

export const SCALE_SUFFIX = '_scale';

const scaleShape = (q: Int8Quantized): number[] => (q.axis === 0 ? [q.scale.length, 1] : [1, q.scale.length]);

/** The scales and codes of `int8`, as safetensors tensors to write after the float parameters. */
export function int8Tensors(int8: ReadonlyMap<string, Int8Quantized>): NamedTensor[] {
  const entries = [...int8];
  return [
    ...entries.map(([name, q]): NamedTensor => ({ name: `${name}${SCALE_SUFFIX}`, dtype: 'F32', shape: scaleShape(q), data: q.scale })),
    ...entries.map(([name, q]): NamedTensor => ({ name, dtype: 'I8', shape: q.shape, data: q.q })),
  ];
}

/**
 * A model file's tensors as parameters: F32 ones as they are, I8 ones with their `_scale` dequantized (and
 * their codes kept in `int8`). What does not fit is refused with a message naming the tensor (`problem`
 * prefixes it with the file).
 */
export function splitInt8(tensors: ReadonlyMap<string, DecodedTensor>, problem: (message: string) => Error): { params: Map<string, SerializedTensor>; int8: Map<string, Int8Quantized> } {
  const params = new Map<string, SerializedTensor>();
  const int8 = new Map<string, Int8Quantized>();
  const scales = new Set<string>();
  for (const [name, t] of tensors) {
    if (t.fileDtype !== 'I8') continue;
    const s = tensors.get(`${name}${SCALE_SUFFIX}`);
    if (t.shape.length !== 2) throw problem(`int8 parameter '${name}' is [${t.shape}]; int8 weights are 2-D`);
    if (!s || s.fileDtype !== 'F32') throw problem(`int8 parameter '${name}' has no F32 '${name}${SCALE_SUFFIX}' beside it; its codes cannot be read without their scales`);
    const [rows, cols] = t.shape;
    const axis = s.shape.join() === `${rows},1` ? 0 : s.shape.join() === `1,${cols}` ? 1 : -1;
    if (axis < 0) throw problem(`'${name}${SCALE_SUFFIX}' is [${s.shape}]; for int8 [${t.shape}] it must be [${rows}, 1] or [1, ${cols}]`);
    const q: Int8Quantized = { kind: 'int8-symmetric-per-channel', shape: [rows, cols], axis, q: Int8Array.from(t.data), scale: s.data as Float32Array };
    int8.set(name, q);
    scales.add(s.name);
    params.set(name, { shape: q.shape, data: dequantizedValues(q) });
  }
  for (const [name, t] of tensors) {
    if (int8.has(name) || scales.has(name)) continue;
    if (t.fileDtype !== 'F32') throw problem(`parameter '${name}' is ${t.fileDtype}; parameters are F32, or I8 with their scales`);
    params.set(name, { shape: t.shape, data: t.data as Float32Array });
  }
  return { params, int8 };
}
