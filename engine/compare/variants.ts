/** Which runs a comparison measures, and what each is, from their run.json. */
import path from 'node:path';
import { COMPARE_LIMITS } from '../../common/compare';
import { EngineError } from '../../common/errors';
import { listRuns, readRunJson, RUN_JSON } from '../../common/node/runFiles';
import { parseRunConfig, type RunConfig } from '../../common/runConfig';

/** The runs in the base's runs folder that were derived from it (config.base.runDir), oldest first. */
export async function variantsOf(baseRunDir: string): Promise<string[]> {
  const base = path.resolve(baseRunDir);
  const found: string[] = [];
  for (const r of await listRuns(path.dirname(base))) {
    if (!r.ok || r.dir === base) continue;
    const config = (() => { try { return parseRunConfig(r.run.config, path.join(r.dir, RUN_JSON)); } catch { return null; } })();
    if ((config?.task === 'compress' || config?.task === 'finetune') && path.resolve(config.base.runDir) === base) found.push(r.dir);
  }
  if (found.length > COMPARE_LIMITS.maxVariants) {
    throw new EngineError('INVALID_CONFIG', `${base}: has ${found.length} variants, more than the ${COMPARE_LIMITS.maxVariants} one comparison measures; name the ones to compare`, ['variantRunDirs']);
  }
  return found;
}

/** What a row calls a run's method: 'int8', 'qat', 'distill', 'prune' (with its kind), 'finetune', or its task. */
export function methodOf(config: RunConfig): string {
  if (config.task === 'compress') return config.compress.method === 'prune' ? `prune-${config.compress.kind}` : config.compress.method;
  return config.task;
}

/** Whether a run is an int8 variant, whose speed is measured where int8 runs (ONNX Runtime). */
export function isInt8(config: RunConfig): boolean {
  return config.task === 'compress' && (config.compress.method === 'int8' || config.compress.method === 'qat');
}

/** The checkpoint of the base the variants were derived from, when they all name the same one. */
export async function sharedBaseCheckpoint(variantDirs: string[]): Promise<string | null> {
  const names = new Set<string>();
  for (const dir of variantDirs) {
    const config = parseRunConfig((await readRunJson(dir)).config, path.join(dir, RUN_JSON));
    if (config.task === 'compress' || config.task === 'finetune') names.add(config.base.checkpoint);
  }
  return names.size === 1 ? [...names][0] : null;
}
