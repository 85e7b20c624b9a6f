/** `model.describe`: validates a model config and returns it resolved, with its size and cost. Computes nothing, so it runs beside training. */
import { ModelConfig, resolveModelConfig, type ResolvedModelConfig } from '../../../common/modelConfig';
import { modelStats } from '../../../common/modelStats';
import type { JobHandler } from '../job';
import { invalidConfig } from '../../../common/zodIssues';

/** The config a job spec carries in its `model` field, validated; INVALID_CONFIG names the field and the fix. */
export function readModelConfig(input: unknown): ResolvedModelConfig {
  const parsed = ModelConfig.safeParse(input);
  if (!parsed.success) throw invalidConfig(parsed.error, ['model']);
  return resolveModelConfig(parsed.data);
}

export const modelDescribe: JobHandler<'model.describe'> = {
  usesDevice: false,
  async run(spec) {
    const config = readModelConfig(spec.model);
    return { config, stats: modelStats(config) };
  },
};
