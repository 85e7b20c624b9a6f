/**
 * Reads the PyTorch golden files (../shared/reference/README.md) and compares engine tensors with them.
 * The folder comes from WORKBENCH_GOLDEN_DIR so that other seeds and shapes run through the same tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

export interface GoldenTensor { shape: number[]; data: number[] }
export interface GoldenCase {
  case: string;
  config: Record<string, unknown>;
  inputs: Record<string, GoldenTensor | GoldenTensor[]>;
  params: Record<string, GoldenTensor>;
  outputs: Record<string, GoldenTensor | GoldenTensor[] | number | number[]>;
  grads: Record<string, GoldenTensor>;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function goldenDir(): string {
  return path.resolve(process.env.WORKBENCH_GOLDEN_DIR ?? path.join(repoRoot, '../shared/reference/golden'));
}

/** The case in `<dir>/<name>.json`; throws with the path when it is missing, so a wrong folder is loud. */
export function loadGolden(name: string): GoldenCase {
  const file = path.join(goldenDir(), `${name}.json`);
  if (!fs.existsSync(file)) throw new Error(`golden file ${file} is missing: set WORKBENCH_GOLDEN_DIR to a folder made by gen_golden.py`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as GoldenCase;
}

export function toTensor(g: GoldenTensor, dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
  return tf.tensor(g.data, g.shape, dtype);
}

/** max |a-b| / (max |b| + 1e-6), the README's measure; also checks shapes. */
export function relError(actual: tf.Tensor | ArrayLike<number>, expected: GoldenTensor | ArrayLike<number>): number {
  const exp = 'data' in (expected as GoldenTensor) ? expected as GoldenTensor : { shape: undefined, data: Array.from(expected as ArrayLike<number>) };
  let act: ArrayLike<number>;
  if (actual instanceof tf.Tensor) {
    if (exp.shape && JSON.stringify(actual.shape) !== JSON.stringify(exp.shape)) {
      throw new Error(`shape ${JSON.stringify(actual.shape)} differs from the reference ${JSON.stringify(exp.shape)}`);
    }
    act = actual.dataSync();
  } else {
    act = actual;
  }
  if (act.length !== exp.data.length) throw new Error(`length ${act.length} differs from the reference ${exp.data.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < act.length; i++) {
    const d = Math.abs(act[i] - exp.data[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
    maxRef = Math.max(maxRef, Math.abs(exp.data[i]));
  }
  return maxDiff / (maxRef + 1e-6);
}

export const GOLDEN_TOLERANCE = 1e-4;
