/**
 * One entry per architecture: the config's `arch` picks the class. New architectures register here.
 */
import { ModelConfig, formatConfigIssues, resolveModelConfig, type ModelConfigInput } from '../../common/modelConfig';
import { EngineError } from '../../common/errors';
import { BERT } from './bert/model';
import { GPT } from './gpt/model';

export const ARCHITECTURES = { gpt: GPT, bert: BERT } as const;
export type AnyModel = GPT | BERT;

/** Validates `config` (INVALID_CONFIG naming each bad field) and builds the model with seeded initial weights. */
export function createModel(config: ModelConfigInput, seed = 0): AnyModel {
  const parsed = ModelConfig.safeParse(config);
  if (!parsed.success) throw new EngineError('INVALID_CONFIG', formatConfigIssues(parsed.error, ['model']), ['model', ...(parsed.error.issues[0]?.path ?? []).map((p) => (typeof p === 'symbol' ? String(p) : p))]);
  const resolved = resolveModelConfig(parsed.data);
  return new ARCHITECTURES[resolved.arch](resolved, seed);
}
