/**
 * Variant run folders for the comparison's tests, written as a derived run writes them — a CompressRunConfig
 * run.json beside the base, the base's tokenizer, one checkpoint — with weights changed by the test (rounded
 * through int8, heads zeroed, …) or a model of another shape: the comparison is tested against variants it
 * makes itself, before the methods that make real ones are in.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ModelConfig, type ModelConfigInput } from '../../common/modelConfig';
import { readRunJson, RUN_JSON, TOKENIZER_FILE } from '../../common/node/runFiles';
import { objectiveOfRun, parseRunConfig, type CompressRunConfig } from '../../common/runConfig';
import type { CompressConfigInput } from '../../common/compressConfig';
import { CompressConfig } from '../../common/compressConfig';
import type { ParamStore } from '../models/params';
import { createModel } from '../models/registry';
import { saveCheckpoint } from '../runs/checkpoint';
import { loadRunModel } from '../runs/loadRunModel';

export interface VariantSpec {
  id: string;
  compress: CompressConfigInput;
  /** another model (a student): fresh weights from `seed`; default the base's model with its weights */
  model?: Partial<ModelConfigInput>;
  seed?: number;
  /** changes the weights before they are saved */
  transform?: (params: ParamStore) => void;
}

export async function writeVariant(baseRunDir: string, spec: VariantSpec): Promise<string> {
  const base = await loadRunModel(baseRunDir, 'last');
  const dir = path.join(path.dirname(base.runDir), spec.id);
  try {
    const model = ModelConfig.parse({ ...base.modelConfig, ...spec.model });
    const config: CompressRunConfig = {
      task: 'compress', model, compress: CompressConfig.parse(spec.compress),
      base: { runDir: base.runDir, runId: base.run.id, checkpoint: base.checkpoint.name, step: base.checkpoint.step, objective: objectiveOfRun(base.config) },
    };
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(base.runDir, TOKENIZER_FILE), path.join(dir, TOKENIZER_FILE));
    const json = await readRunJson(base.runDir);
    parseRunConfig(config, dir);
    fs.writeFileSync(path.join(dir, RUN_JSON), JSON.stringify({ ...json, id: spec.id, name: spec.id, status: 'completed', config, step: 0, lastCheckpoint: null }));
    const student = spec.model ? createModel(model, spec.seed ?? 1) : null;
    const params = student?.params ?? base.model.params;
    spec.transform?.(params);
    await saveCheckpoint(dir, { step: 1, params, valLoss: null });
    student?.dispose();
    return dir;
  } finally {
    base.model.dispose();
  }
}
