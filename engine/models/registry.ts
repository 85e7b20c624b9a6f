/**
 * One entry per architecture: the config's `arch` picks the class. New architectures register here.
 */
import { ModelConfig, resolveModelConfig, type ModelConfigInput } from '../../common/modelConfig';
import { BERT } from './bert/model';
import { GPT } from './gpt/model';
import { invalidConfig } from '../../common/zodIssues';

export const ARCHITECTURES = { gpt: GPT, bert: BERT } as const;
export type AnyModel = GPT | BERT;

/** Validates `config` (INVALID_CONFIG naming each bad field) and builds the model with seeded initial weights. */
export function createModel(config: ModelConfigInput, seed = 0): AnyModel {
  const parsed = ModelConfig.safeParse(config);
  if (!parsed.success) throw invalidConfig(parsed.error, ['model']);
  const resolved = resolveModelConfig(parsed.data);
  return new ARCHITECTURES[resolved.arch](resolved, seed);
}
