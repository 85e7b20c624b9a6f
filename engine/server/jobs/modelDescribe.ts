/** `model.describe`: validates a model config and returns it resolved, with its size and cost. Computes nothing, so it runs beside training. */
import { EngineError } from '../../../common/errors';
import { ModelConfig, formatConfigIssues, resolveModelConfig, type ResolvedModelConfig } from '../../../common/modelConfig';
import { modelStats } from '../../../common/modelStats';
import type { JobHandler } from '../job';

/** The config a job spec carries in its `model` field, validated; INVALID_CONFIG names the field and the fix. */
export function readModelConfig(input: unknown): ResolvedModelConfig {
  const parsed = ModelConfig.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0]?.path ?? [];
    throw new EngineError('INVALID_CONFIG', formatConfigIssues(parsed.error, ['model']),
      ['model', ...first.map((p) => (typeof p === 'symbol' ? String(p) : p))]);
  }
  return resolveModelConfig(parsed.data);
}

export const modelDescribe: JobHandler<'model.describe'> = {
  usesDevice: false,
  async run(spec) {
    const config = readModelConfig(spec.model);
    return { config, stats: modelStats(config) };
  },
};
