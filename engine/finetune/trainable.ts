/**
 * What a classifier's fine-tuning trains: every weight (method 'full'), or the LoRA adapters plus the
 * classification head (method 'lora'), and how that is said before training — the count and its share of
 * the model, as PEFT's print_trainable_parameters does.
 */
import { EngineError } from '../../common/errors';
import type { FinetuneConfig } from '../../common/finetuneConfig';
import type { ModelConfig } from '../../common/modelConfig';
import { createModel, type AnyModel } from '../models/registry';

/** The head a classifier trains under every method: BERT's pooler and classifier, GPT's score. */
export const CLASSIFIER_HEAD = /^(classifier\.|bert\.pooler\.|score\.)/;

export async function classifierTrainable(model: AnyModel, ft: FinetuneConfig, _seed: number): Promise<string[]> {
  if (ft.method === 'full') return model.params.names;
  // FOR THE LEAD: at merge, this becomes `attachLora(model, ft.lora, seed)` (engine/finetune/lora/attach.ts,
  // the "lora" helper's) → { trainable } (the adapters), plus the head below; until then 'lora' is refused here.
  throw new EngineError('INVALID_CONFIG', 'method \'lora\' is not available in this build yet (its adapters arrive with engine/finetune/lora); use method \'full\'', ['finetune', 'method']);
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
