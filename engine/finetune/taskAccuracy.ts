/**
 * A fine-tuned classifier's accuracy on its own task's test split, measured again from outside the run (the
 * comparison view): the same split (data, tokenizer, seed) and the same evaluation set the run's evaluations
 * classify, so the figure matches the run's `val/accuracy` at that checkpoint.
 */
import type { FinetuneRunConfig } from '../../common/runConfig';
import type { AnyModel } from '../models/registry';
import type { Tokenizer } from '../tokenizers';
import { evenlySpaced } from './classificationData';
import { classificationSplit } from './classificationKind';
import { predict } from './classifierTask';

export type TaskAccuracy =
  | { ok: true; accuracy: number; examples: number; testExamples: number }
  | { ok: false; reason: string };

export async function taskAccuracy(config: FinetuneRunConfig, model: AnyModel, tokenizer: Tokenizer, signal?: AbortSignal): Promise<TaskAccuracy> {
  const ft = config.finetune;
  if (ft.data.kind === 'domain') return { ok: false, reason: 'task accuracy: n/a — a domain-adaptation run has no classes; its perplexity is in its run log' };
  const split = await classificationSplit(ft.data, tokenizer, config.model, ft.loop.seed, signal);
  const evalSet = evenlySpaced(split.test, ft.maxEvalExamples);
  const { predicted } = await predict(model, evalSet, ft.loop.batchSize, tokenizer.specialIds);
  const right = evalSet.reduce((n, e, i) => n + (predicted[i] === e.label ? 1 : 0), 0);
  return { ok: true, accuracy: evalSet.length ? right / evalSet.length : 0, examples: evalSet.length, testExamples: split.test.length };
}
