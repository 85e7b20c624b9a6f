/**
 * Structured head pruning: score every attention head, then really remove the least important ones — the
 * model that comes out has smaller q/k/v and output matrices (nHeads·headDim < dModel), so it computes less,
 * unlike a mask. The same number of heads goes from every layer (the least important within each layer):
 * the models take one head count for all layers.
 *
 * Importance, measured on the base's data before the cut:
 *  - 'gradient' (Michel, Levy & Neubig 2019, "Are Sixteen Heads Really Better than One?"): a mask ξ_h = 1
 *    multiplies each head's output; I_h = mean over batches of |∂L/∂ξ_h|, the loss change a head's removal
 *    predicts to first order. ξ scales the head's rows of the output projection through the weight view,
 *    which is the same thing (the projection is linear in each head's output) and needs no model change.
 *  - 'attention' (the inspect statistics, ../inspect/headStats.ts): 1 − the share of a head's attention
 *    parked on a sink (the first position, [CLS]/[SEP]); heads that attend mostly to a sink are the near
 *    no-ops that Clark et al. (2019) and Voita et al. (2019) found pruned at little cost.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EngineError } from '../../common/errors';
import type { ModelConfig, ResolvedModelConfig } from '../../common/modelConfig';
import type { Objective } from '../../common/pretrainConfig';
import type { HeadStats } from '../../common/attentionMaps';
import { createModel, type AnyModel } from '../models/registry';
import type { Batch } from '../models/types';

/** A layer × head grid (importance, kept heads). */
export type HeadGrid = number[][];

/** The config fields of a resolved config (what createModel takes), the derived ones left out. */
export function configOf(c: ResolvedModelConfig): ModelConfig {
  const { attnDim: _a, causal: _c, ...config } = c;
  return config;
}

/** How many heads each layer loses for `share` of all heads; INVALID_CONFIG when none or all would go. */
export function headsToRemove(c: Pick<ModelConfig, 'nHeads' | 'nLayers'>, share: number): number {
  const k = Math.round(share * c.nHeads);
  if (k < 1 || k >= c.nHeads) {
    throw new EngineError('INVALID_CONFIG', `headShare ${share} of ${c.nHeads} heads per layer removes ${k}; the same number of heads goes from every layer, so choose a share that removes at least 1 and at most ${c.nHeads - 1} per layer (e.g. ${(1 / c.nHeads).toFixed(2)}–${((c.nHeads - 1) / c.nHeads).toFixed(2)})`, ['compress', 'headShare']);
  }
  return k;
}

/** The model with `remove` fewer heads per layer, each head as wide as before. */
export function headPrunedConfig(base: ModelConfig, remove: number): ModelConfig {
  const headDim = base.headDim ?? base.dModel / base.nHeads;
  return { ...base, nHeads: base.nHeads - remove, headDim };
}

/** Per layer, the `keep` most important heads, in their original order (ties: the lower index stays). */
export function keptHeads(importance: HeadGrid, keep: number): HeadGrid {
  return importance.map((row) => row.map((s, h) => ({ s, h })).sort((a, b) => b.s - a.s || a.h - b.h).slice(0, keep).map((x) => x.h).sort((a, b) => a - b));
}

/** The columns (or rows) of heads `heads` in a [.., H·hd] layout, `offset` added (q, k or v third). */
function headIndices(heads: number[], hd: number, offset = 0): number[] {
  return heads.flatMap((h) => Array.from({ length: hd }, (_, j) => offset + h * hd + j));
}

/** Each attention weight's pieces of the kept heads: the axis it is sliced on and the indices along it. */
function attentionSlices(c: ResolvedModelConfig, layer: number, heads: number[]): Map<string, { axis: number; idx: number[] }> {
  const hd = c.headDim;
  const one = headIndices(heads, hd);
  const out = new Map<string, { axis: number; idx: number[] }>();
  if (c.arch === 'gpt') {
    const three = [0, 1, 2].flatMap((p) => headIndices(heads, hd, p * c.attnDim)); // q | k | v thirds
    out.set(`h.${layer}.attn.c_attn.weight`, { axis: 1, idx: three }); // [d, 3a]
    out.set(`h.${layer}.attn.c_attn.bias`, { axis: 0, idx: three });
    out.set(`h.${layer}.attn.c_proj.weight`, { axis: 0, idx: one }); // [a, d]
  } else {
    const l = `bert.encoder.layer.${layer}.attention`;
    for (const n of ['query', 'key', 'value']) {
      out.set(`${l}.self.${n}.weight`, { axis: 0, idx: one }); // [a, d]
      out.set(`${l}.self.${n}.bias`, { axis: 0, idx: one });
    }
    out.set(`${l}.output.dense.weight`, { axis: 1, idx: one }); // [d, a]
  }
  return out;
}

/**
 * A new model holding only the heads `kept` (per layer, the same count) of `model`, every other weight
 * copied: its outputs equal the original's with the other heads' outputs set to zero.
 */
export function removeHeads(model: AnyModel, kept: HeadGrid): AnyModel {
  const c = model.config;
  const keep = kept[0]?.length ?? 0;
  if (kept.length !== c.nLayers || kept.some((row) => row.length !== keep || row.some((h) => !Number.isInteger(h) || h < 0 || h >= c.nHeads) || new Set(row).size !== row.length)) {
    throw new Error(`removeHeads: kept heads must list ${c.nLayers} layers of the same number of distinct heads in 0…${c.nHeads - 1}; got ${JSON.stringify(kept)}`);
  }
  const slices = new Map<string, { axis: number; idx: number[] }>();
  kept.forEach((heads, i) => attentionSlices(c, i, heads).forEach((v, k) => slices.set(k, v)));
  const pruned = createModel(headPrunedConfig(configOf(c), c.nHeads - keep));
  try {
    for (const name of pruned.params.names) {
      const s = slices.get(name);
      tf.tidy(() => pruned.params.assign(name, s ? tf.gather(model.params.get(name), tf.tensor1d(s.idx, 'int32'), s.axis) : model.params.get(name)));
    }
  } catch (err) {
    pruned.dispose();
    throw err;
  }
  return pruned;
}

/** The output projection of layer i, and the axis its rows of head outputs lie on. */
function outputProjection(c: ResolvedModelConfig, i: number): { name: string; headAxis: 0 | 1 } {
  return c.arch === 'gpt' ? { name: `h.${i}.attn.c_proj.weight`, headAxis: 0 } : { name: `bert.encoder.layer.${i}.attention.output.dense.weight`, headAxis: 1 };
}

/** Michel et al.'s head importance: mean |∂L/∂ξ| of a head mask ξ = 1 over `batches`, a layer × head grid. */
export function gradientHeadImportance(model: AnyModel, batches: Batch[], objective: Objective): HeadGrid {
  const c = model.config;
  const { nLayers: L, nHeads: H, headDim: hd } = c;
  const xi = tf.variable(tf.ones([L, H]), true, `head-mask-${Math.random().toString(36).slice(2)}`);
  const byName = new Map(Array.from({ length: L }, (_, i) => [outputProjection(c, i).name, i]));
  model.params.setView((name, stored) => {
    const i = byName.get(name);
    if (i === undefined) return stored;
    const perUnit = tf.reshape(tf.tile(tf.reshape(tf.slice(xi, [i, 0], [1, H]), [H, 1]), [1, hd]), [H * hd]); // head h's ξ on its hd units
    return tf.mul(stored, outputProjection(c, i).headAxis === 0 ? tf.reshape(perUnit, [H * hd, 1]) : tf.reshape(perUnit, [1, H * hd]));
  });
  try {
    const sum = new Float64Array(L * H);
    for (const batch of batches) {
      const g = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => model.loss(batch, objective).loss, [xi]);
        return tf.abs(grads[xi.name]).dataSync();
      });
      g.forEach((v, j) => { sum[j] += v; });
    }
    return Array.from({ length: L }, (_, i) => Array.from({ length: H }, (_, h) => sum[i * H + h] / batches.length));
  } finally {
    model.params.setView(null);
    xi.dispose();
  }
}

/** Importance from the inspect statistics: 1 − the share of attention parked on a sink (first position, [CLS]/[SEP]). */
export function attentionHeadImportance(stats: HeadStats): HeadGrid {
  return stats.firstTokenShare.map((row, i) => row.map((first, h) => 1 - Math.max(first, stats.specialShare?.[i][h] ?? 0)));
}
