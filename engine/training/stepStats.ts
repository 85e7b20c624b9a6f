/**
 * What the training loop measures around each step, beside the loss: gradient norms per layer group, how
 * far a step moved each group relative to its size, host copies of weights and gradients for histograms,
 * and the evaluation scalars under their metrics.jsonl tags.
 */
import type { HeadGrid, HeadStats } from '../../common/attentionMaps';
import * as tf from '@tensorflow/tfjs-core';
import * as fused from '../backends/fusedOps';
import type { AnyModel } from '../models/registry';
import type { EvalResult } from './evaluate';

/** √Σg² per layer group, over the parameters that have a gradient; a group with none is left out. */
export function layerGradNorms(groups: Map<string, string[]>, grads: Record<string, tf.Tensor>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [g, names] of groups) {
    const present = names.filter((n) => n in grads);
    if (!present.length) continue;
    const s = fused.sumOfSquares(present.map((n) => grads[n]));
    out[g] = Math.sqrt(s.dataSync()[0]);
    s.dispose();
  }
  return out;
}

export function snapshotGroups(model: AnyModel, groups: Map<string, string[]>): Map<string, tf.Tensor[]> {
  return new Map([...groups].map(([g, names]) => [g, names.map((n) => tf.clone(model.params.get(n)))]));
}

/** ‖θ_after − θ_before‖ / ‖θ_before‖ per layer: how far one step moved it, relative to its size (~1e-3 is healthy). */
export function updateRatios(model: AnyModel, groups: Map<string, string[]>, before: Map<string, tf.Tensor[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [g, names] of groups) {
    const old = before.get(g)!;
    const [delta, base] = tf.tidy(() => {
      const d = fused.sumOfSquares(names.map((n, i) => tf.sub(model.params.get(n), old[i])));
      const b = fused.sumOfSquares(old);
      return [d.dataSync()[0], b.dataSync()[0]];
    });
    out[g] = base > 0 ? Math.sqrt(delta / base) : 0;
    tf.dispose(old);
  }
  return out;
}

export function hostCopies(grads: Record<string, tf.Tensor>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, g.dataSync() as Float32Array]));
}

export function weightCopies(model: AnyModel): Record<string, Float32Array> {
  return Object.fromEntries(model.params.names.map((n) => [`weights/${n}`, model.params.get(n).dataSync() as Float32Array]));
}

export function prefixed<T>(prefix: string, o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [prefix + k, v]));
}

/** val/loss, val/perplexity, …; the training estimate is train/eval_loss, apart from the per-step train/loss. */
export function evalScalars(split: 'train' | 'val', r: EvalResult): Record<string, number> {
  const s: Record<string, number> = { [split === 'val' ? 'val/loss' : 'train/eval_loss']: r.loss, [`${split}/perplexity`]: r.perplexity };
  if (r.mlmAccuracy !== undefined) s[`${split}/mlm_accuracy`] = r.mlmAccuracy;
  if (r.nspAccuracy !== undefined) s[`${split}/nsp_accuracy`] = r.nspAccuracy;
  if (r.accuracy !== undefined) s[`${split}/accuracy`] = r.accuracy;
  if (r.macroF1 !== undefined) s[`${split}/macro_f1`] = r.macroF1;
  return s;
}

/** The head statistics charted beside the loss: attn_entropy/h.L.H, attn_prev_token/h.L.H and (causal models) attn_induction/h.L.H. */
export function headScalars(stats: HeadStats): Record<string, number> {
  const s: Record<string, number> = {};
  const add = (tag: string, grid: HeadGrid | null) => grid?.forEach((heads, l) => heads.forEach((v, h) => { s[`${tag}/h.${l}.${h}`] = v; }));
  add('attn_entropy', stats.entropy);
  add('attn_prev_token', stats.previousToken);
  add('attn_induction', stats.induction);
  return s;
}
