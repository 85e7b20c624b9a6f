/**
 * Per-layer weight error of a variant against its base: ‖W_variant − W_base‖_F / ‖W_base‖_F over the
 * layer's weights (the layer groups of the training dashboards: embeddings, layer.N, head). It is defined
 * where the variant kept the base's parameters — quantized and magnitude-pruned variants; a student of
 * another shape has none, and says so.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamStore } from '../models/params';
import { groupParams } from '../training/layerGroups';

export type WeightErrorResult = { ok: true; layers: { layer: string; relError: number }[] } | { ok: false; reason: string };

export function weightError(base: ParamStore, variant: ParamStore): WeightErrorResult {
  const names = base.specs.map((s) => s.name);
  for (const name of names) {
    let v: tf.Variable;
    try {
      v = variant.get(name);
    } catch {
      return { ok: false, reason: `the variant has no parameter ${name}: its weights are not the base's reshaped, so there is no per-layer error` };
    }
    const b = base.get(name);
    if (v.shape.join('x') !== b.shape.join('x')) return { ok: false, reason: `${name} is [${v.shape}] in the variant and [${b.shape}] in the base: no per-layer error between different shapes` };
  }
  const layers = [...groupParams(names)].map(([layer, group]) => {
    const [diff, ref] = tf.tidy(() => {
      let d = tf.scalar(0);
      let r = tf.scalar(0);
      for (const name of group) {
        const b = base.get(name);
        d = tf.add(d, tf.sum(tf.square(tf.sub(variant.get(name), b))));
        r = tf.add(r, tf.sum(tf.square(b)));
      }
      return [d.dataSync()[0], r.dataSync()[0]];
    });
    return { layer, relError: ref > 0 ? Math.sqrt(diff / ref) : Math.sqrt(diff) };
  });
  return { ok: true, layers };
}

/** Every stored weight counted, and those not exactly zero (what magnitude pruning changes). */
export function parameterCounts(params: ParamStore): { parameters: number; nonZero: number } {
  let parameters = 0;
  let nonZero = 0;
  for (const spec of params.specs) {
    const v = params.get(spec.name);
    parameters += v.size;
    nonZero += tf.tidy(() => tf.sum(tf.cast(tf.notEqual(v, 0), 'int32')).dataSync()[0]);
  }
  return { parameters, nonZero };
}
