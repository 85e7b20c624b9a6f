/**
 * Unstructured magnitude pruning (Zhu & Gupta 2017, "To prune, or not to prune"): during a short fine-tune
 * each block matrix (attention and feed-forward weights; not the embeddings, the heads, the biases or the
 * norms) loses its smallest-magnitude weights, its sparsity rising on a cubic schedule to the target. The
 * masks stand between the weights and the forward pass (the weight view), so pruned weights get no
 * gradient, and the update's drift on them (momentum, decay) is zeroed after every step.
 *
 * The masks are the pruned weights' zeros: a checkpoint holds them, so a resumed run finds the same masks in
 * its restored weights. A zeroed weight still costs a multiply in dense kernels: no speedup is claimed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AnyModel } from '../models/registry';

/** Target sparsity after `step` of `steps`: s·(1 − (1 − t/(ramp·steps))³), then s. */
export function cubicSparsity(step: number, steps: number, target: number, ramp: number): number {
  const rampSteps = Math.max(1, Math.round(ramp * steps));
  const t = Math.min(1, step / rampSteps);
  return target * (1 - (1 - t) ** 3);
}

const BLOCK = /^(h|bert\.encoder\.layer)\.(\d+)\./;

/** The matrices magnitude pruning thins, by name: the blocks' weights that decay (matrices). */
export function prunableWeights(model: AnyModel): string[] {
  return model.params.specs.filter((s) => s.decay && BLOCK.test(s.name)).map((s) => s.name);
}

/** Mask of `values` with exactly round(sparsity·n) zeros at the smallest |w| (ties: the lower index first). */
export function magnitudeMask(values: Float32Array, sparsity: number): Float32Array {
  const k = Math.round(sparsity * values.length);
  const mask = new Float32Array(values.length).fill(1);
  if (k === 0) return mask;
  const order = Array.from(values.keys()).sort((a, b) => Math.abs(values[a]) - Math.abs(values[b]) || a - b);
  for (let i = 0; i < k; i++) mask[order[i]] = 0;
  return mask;
}

export interface SparsityReport {
  /** zeros over all pruned weights */
  overall: number;
  /** per block (layer.i), zeros over its pruned weights */
  layers: Record<string, number>;
}

/** Magnitude masks for a model, applied through its weight view and enforced after each step. */
export class MagnitudeMasks {
  private readonly masks = new Map<string, tf.Tensor>();

  constructor(private readonly model: AnyModel, readonly names: string[]) {
    model.params.setView((name, stored) => {
      const m = this.masks.get(name);
      return m ? tf.mul(stored, m) : stored;
    });
  }

  /** The masks the weights already carry (their zeros): none pruned for a dense base, the same ones after a resume. */
  adoptZeros(): void {
    for (const name of this.names) this.set(name, tf.tidy(() => tf.cast(tf.notEqual(this.model.params.get(name), 0), 'float32')));
  }

  /** New masks at `sparsity` per matrix, from the weights' magnitudes now. */
  update(sparsity: number): void {
    for (const name of this.names) {
      const v = this.model.params.get(name);
      this.set(name, tf.tensor(magnitudeMask(v.dataSync() as Float32Array, sparsity), v.shape));
    }
  }

  /** Zeroes the masked weights (after an update moved them). */
  enforce(): void {
    for (const [name, m] of this.masks) {
      const v = this.model.params.get(name);
      tf.tidy(() => v.assign(tf.mul(v, m)));
    }
  }

  report(): SparsityReport {
    let zeros = 0, total = 0;
    const perLayer = new Map<string, [number, number]>();
    for (const [name, m] of this.masks) {
      const z = m.size - tf.tidy(() => tf.sum(m).dataSync()[0]);
      zeros += z;
      total += m.size;
      const layer = `layer.${BLOCK.exec(name)![2]}`;
      const [lz, lt] = perLayer.get(layer) ?? [0, 0];
      perLayer.set(layer, [lz + z, lt + m.size]);
    }
    return { overall: total ? zeros / total : 0, layers: Object.fromEntries([...perLayer].map(([l, [z, t]]) => [l, z / t])) };
  }

  private set(name: string, mask: tf.Tensor): void {
    this.masks.get(name)?.dispose();
    this.masks.set(name, mask);
  }

  dispose(): void {
    this.model.params.setView(null);
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
  }
}
