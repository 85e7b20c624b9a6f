/**
 * What a classifier's fine-tuning trains: every weight (method 'full'), or the LoRA adapters plus the
 * classification head (method 'lora'), and how that is said before training — the count and its share of
 * the model, as PEFT's print_trainable_parameters does.
 */
import type { FinetuneConfig } from '../../common/finetuneConfig';
import type { ModelConfig } from '../../common/modelConfig';
import { createModel, type AnyModel } from '../models/registry';
import { attachLora } from './lora/attach';

/** The head a classifier trains under every method: BERT's pooler and classifier, GPT's score. */
export const CLASSIFIER_HEAD = /^(classifier\.|bert\.pooler\.|score\.)/;

/**
 * The names the optimizer updates. For 'lora' the adapters are attached to `model` here (before a resumed
 * run's checkpoint is restored into it, which holds them), and the head trains whole beside them.
 */
export async function classifierTrainable(model: AnyModel, ft: FinetuneConfig, seed: number): Promise<string[]> {
  if (ft.method === 'full') return model.params.names;
  const { trainable } = attachLora(model, ft.lora, seed);
  return [...trainable, ...model.params.names.filter((n) => CLASSIFIER_HEAD.test(n))];
}

export interface TrainableCount { trainable: number; total: number; share: number }

export function countTrainable(model: AnyModel, trainable: readonly string[]): TrainableCount {
  const trainableCount = trainable.reduce((a, n) => a + model.params.get(n).size, 0);
  const total = model.params.count;
  return { trainable: trainableCount, total, share: total ? trainableCount / total : 0 };
}

export function describeTrainable(model: AnyModel, trainable: readonly string[]): string {
  const c = countTrainable(model, trainable);
  return `trainable parameters: ${c.trainable.toLocaleString('en')} of ${c.total.toLocaleString('en')} (${(100 * c.share).toFixed(2)}%) in ${trainable.length} tensors`;
}

/** The trainable count a fine-tuning config will have, from a model built for the count alone (before any run folder or data). */
export async function plannedTrainable(model: ModelConfig, ft: FinetuneConfig): Promise<TrainableCount> {
  const m = createModel(model, ft.loop.seed);
  try {
    return countTrainable(m, await classifierTrainable(m, ft, ft.loop.seed));
  } finally {
    m.dispose();
  }
}
