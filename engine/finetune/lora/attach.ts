/**
 * LoRA adapters on a model (Hu et al. 2021, in PEFT's names and layouts): every target module gets
 * `{module}.lora_A.weight` [r, in] and `{module}.lora_B.weight` [out, r] in the model's ParamStore, and its
 * linear layer computes W x + b + (alpha/r)·B A dropout(x) through the models' linear-adapter hook
 * (engine/models/base.ts), which sees the layer's input as a weight view cannot. GPT-2's Conv1D weights are
 * [in, out] (PEFT's fan_in_fan_out): the adapter is the same, only merging transposes its product.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LoraConfig } from '../../../common/finetuneConfig';
import { createLoraParams } from '../../compression/lora';
import type { AdapterPass } from '../../models/base';
import type { AnyModel } from '../../models/registry';
import { modulesOf, resolveLoraTargets, type AdaptableModule } from './targets';

export interface LoraAttachment {
  /** the adapter parameters (A and B of every target), the only weights LoRA trains */
  trainable: string[];
  /** the adapted modules, in the model's order */
  targets: string[];
  /** takes the adapters off: their parameters removed and freed, the model computing as before */
  detach(): void;
  readonly config: LoraConfig;
  /** the target patterns as given (or the architecture's defaults) and how many modules each matched */
  readonly patterns: string[];
  readonly counts: Record<string, number>;
  readonly modules: AdaptableModule[];
  /** alpha / r */
  readonly scale: number;
  /** adapter parameters over all parameters (adapters included), as PEFT's print_trainable_parameters says it */
  readonly share: { adapter: number; total: number };
  /** false while the adapters are merged into the weights (./merge.ts), so that they are not added twice */
  active: boolean;
}

export const loraParamNames = (module: string) => ({ A: `${module}.lora_A.weight`, B: `${module}.lora_B.weight` });

/**
 * (alpha/r)·(dropout(x) Aᵀ) Bᵀ for x [N, in]: the adapter's share of the layer's output [N, out], in the
 * order of engine/compression/lora.ts `loraLinear` (the numerics compression.json checks).
 */
export function loraDelta(x: tf.Tensor2D, A: tf.Tensor, B: tf.Tensor, scale: number, dropout = 0, seed?: number): tf.Tensor2D {
  const input = dropout > 0 ? tf.dropout(x, dropout, undefined, seed) : x;
  const down = tf.matMul(input, tf.transpose(A)); // [N, r]
  return tf.mul(tf.matMul(down, tf.transpose(B)), scale) as tf.Tensor2D; // [N, out]
}

/** Adds adapters to the modules `cfg.targetModules` selects (refused with suggestions when one matches nothing); A from `seed`, B zero. */
export function attachLora(model: AnyModel, cfg: LoraConfig, seed: number): LoraAttachment {
  if (model.linearAdapter) throw new Error('this model already has adapters attached; detach them first');
  const { modules, patterns, counts } = resolveLoraTargets(modulesOf(model), cfg.targetModules);
  const names: string[] = [];
  modules.forEach((m, i) => {
    const vars = createLoraParams(m.name, m.inFeatures, m.outFeatures, cfg, seed * 1009 + i);
    const n = loraParamNames(m.name);
    model.params.add({ name: n.A, shape: [cfg.r, m.inFeatures], init: 'normal', decay: true }, vars[n.A]);
    model.params.add({ name: n.B, shape: [m.outFeatures, cfg.r], init: 'zeros', decay: true }, vars[n.B]);
    names.push(n.A, n.B);
  });
  const scale = cfg.alpha / cfg.r;
  const index = new Map(modules.map((m, i) => [m.name, i]));
  const adapterCount = names.reduce((s, n) => s + model.params.get(n).size, 0);
  const attachment: LoraAttachment = {
    trainable: names, targets: modules.map((m) => m.name), config: cfg, patterns, counts, modules, scale,
    share: { adapter: adapterCount, total: model.params.count }, active: true,
    detach() {
      if (model.linearAdapter === hook) model.linearAdapter = null;
      names.forEach((n) => { if (model.params.has(n)) model.params.remove(n); });
    },
  };
  const hook = (module: string, x: tf.Tensor2D, pass: AdapterPass): tf.Tensor2D | null => {
    const i = index.get(module);
    if (i === undefined || !attachment.active) return null;
    const n = loraParamNames(module);
    const rate = pass.training ? cfg.dropout : 0;
    // each module draws its own mask (PEFT has a dropout per adapted layer), repeatable from the pass's seed
    const seedOf = pass.dropoutSeed === undefined ? undefined : pass.dropoutSeed * 6151 + 1_000_003 + i;
    return loraDelta(x, model.params.read(n.A), model.params.read(n.B), scale, rate, seedOf);
  };
  model.linearAdapter = hook;
  return attachment;
}
