/**
 * Per-head attention divergence of a variant against its base: for each of the variant's heads, the
 * Jensen–Shannon divergence (bits, 0…1) between its attention row and the matching base head's, averaged
 * over the real query positions of a few held-out sequences.
 *
 * Matching: heads by index within a layer (a variant with another head count cannot be matched and says
 * so); layers by the teacher layer a DistilBERT student starts from — a student of L_s layers against a
 * base of L_b compares its layer i with base layer ⌊i·L_b / L_s⌋ (every other layer when it has half). A
 * head whose output projection is all zeros contributes nothing to the model: it is reported as removed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HeadDivergence } from '../../common/compare';
import type { AnyModel } from '../models/registry';
import { toBatch, type HostBatch } from '../training/pretrainData';

/** The first `n` sequences of a batch. */
export function firstSequences(h: HostBatch, n: number): HostBatch {
  const B = Math.min(n, h.B);
  const cut = (a: Int32Array) => a.slice(0, B * h.T);
  return {
    B, T: h.T, inputIds: cut(h.inputIds), labels: cut(h.labels),
    ...(h.tokenTypeIds ? { tokenTypeIds: cut(h.tokenTypeIds) } : {}),
    ...(h.attentionMask ? { attentionMask: cut(h.attentionMask) } : {}),
    ...(h.nextSentenceLabels ? { nextSentenceLabels: h.nextSentenceLabels.slice(0, B) } : {}),
  };
}

/** Every layer's attention probabilities, flat [B, H, T, T] each. */
export function attentionMaps(model: AnyModel, h: HostBatch): Float32Array[] {
  return tf.tidy(() => {
    const { attentions } = model.forward(toBatch(h), { returnAttentions: true });
    return (attentions ?? []).map((a) => a.dataSync() as Float32Array);
  });
}

/** The base layer each of `variantLayers` layers is compared with. */
export function baseLayerMap(variantLayers: number, baseLayers: number): number[] {
  return Array.from({ length: variantLayers }, (_, i) => Math.min(baseLayers - 1, Math.floor((i * baseLayers) / variantLayers)));
}

/** JS(p ‖ q) in bits of two distributions of length n starting at offsets pa and qa. */
export function jsBits(p: Float32Array, pa: number, q: Float32Array, qa: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) {
    const a = p[pa + k], b = q[qa + k];
    const m = (a + b) / 2;
    if (a > 0) s += a * Math.log2(a / m);
    if (b > 0) s += b * Math.log2(b / m);
  }
  return Math.max(0, s / 2);
}

/** Whether head `head` of layer `layer` writes nothing: its slice of the attention output projection is zero. */
export function headRemoved(model: AnyModel, layer: number, head: number): boolean {
  const c = model.config;
  const lo = head * c.headDim, hi = lo + c.headDim;
  // GPT's Conv1D is [in, out]: the head's inputs are rows; BERT's nn.Linear is [out, in]: columns
  const name = c.arch === 'gpt' ? `h.${layer}.attn.c_proj.weight` : `bert.encoder.layer.${layer}.attention.output.dense.weight`;
  const w = model.params.get(name);
  const data = w.dataSync();
  const [rows, cols] = w.shape;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const inHead = c.arch === 'gpt' ? r >= lo && r < hi : k >= lo && k < hi;
      if (inHead && data[r * cols + k] !== 0) return false;
    }
  }
  return true;
}

/** The variant's heads against the base's on batch `h`; `reason` instead when they cannot be matched. */
export function headDivergence(base: AnyModel, variant: AnyModel, h: HostBatch): { ok: true; value: HeadDivergence } | { ok: false; reason: string } {
  const bc = base.config, vc = variant.config;
  if (bc.nHeads !== vc.nHeads) {
    return { ok: false, reason: `the variant has ${vc.nHeads} heads a layer and the base ${bc.nHeads}: heads cannot be matched by index, so no per-head divergence` };
  }
  const baseMaps = attentionMaps(base, h);
  const variantMaps = attentionMaps(variant, h);
  const layers = baseLayerMap(vc.nLayers, bc.nLayers);
  const { B, T } = h;
  const H = vc.nHeads;
  const real = (b: number, t: number) => !h.attentionMask || h.attentionMask[b * T + t] === 1;
  const js = layers.map((m, l) => Array.from({ length: H }, (_, head) => {
    if (headRemoved(variant, l, head)) return null;
    let sum = 0, count = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        if (!real(b, t)) continue;
        const at = ((b * H + head) * T + t) * T;
        sum += jsBits(baseMaps[m], at, variantMaps[l], at, T);
        count++;
      }
    }
    return count ? sum / count : 0;
  }));
  const mapping = vc.nLayers === bc.nLayers
    ? `layer by layer, head by head, on ${B} held-out sequence(s) of ${T} tokens`
    : `variant layer i against base layer ⌊i·${bc.nLayers}/${vc.nLayers}⌋ (${layers.map((m, i) => `${i}→${m}`).join(', ')}: the teacher layers a DistilBERT student starts from), head by head, on ${B} held-out sequence(s) of ${T} tokens`;
  return { ok: true, value: { baseLayers: layers, js, mapping } };
}
