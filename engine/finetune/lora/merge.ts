/**
 * Merging adapters into their weights, W' = W + (alpha/r)·B A in the weight's own layout, and taking them
 * out again. Unmerging puts back the weights kept at merge time rather than subtracting the product: float
 * addition does not undo exactly (PEFT #1388's drift after merge / unmerge cycles), a copy does.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mergeLora } from '../../compression/lora';
import type { AnyModel } from '../../models/registry';
import { loraParamNames, type LoraAttachment } from './attach';

export interface MergedLora {
  /** the original weights back, bit for bit, and the adapters computing again */
  unmerge(): void;
}

/** Folds the adapters into the weights; while merged, the adapters add nothing (their product is in W). */
export function mergeAdapters(model: AnyModel, att: LoraAttachment): MergedLora {
  return foldIn(model, att, true);
}

/** Merges for good and takes the adapters off: a plain model that computes what the adapted one did. */
export function mergeAndDetach(model: AnyModel, att: LoraAttachment): void {
  foldIn(model, att, false);
  att.detach();
}

function foldIn(model: AnyModel, att: LoraAttachment, keepOriginals: boolean): MergedLora {
  if (!att.active) throw new Error('the adapters are merged already; unmerge them first');
  const originals = new Map<string, tf.Tensor>();
  for (const m of att.modules) {
    const weight = model.params.get(`${m.name}.weight`);
    if (keepOriginals) originals.set(m.name, weight.clone());
    const n = loraParamNames(m.name);
    const merged = mergeLora({ weight, layout: m.layout }, { A: model.params.get(n.A), B: model.params.get(n.B) }, att.config);
    model.params.assign(`${m.name}.weight`, merged);
    merged.dispose();
  }
  att.active = false;
  let undone = false;
  return {
    unmerge() {
      if (undone) throw new Error('these adapters were unmerged already');
      undone = true;
      for (const [module, w] of originals) model.params.assign(`${module}.weight`, w);
      tf.dispose([...originals.values()]);
      att.active = true;
    },
  };
}
