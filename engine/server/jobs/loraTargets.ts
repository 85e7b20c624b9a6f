/**
 * `finetune.loraTargets`: which modules of a run's model LoRA name patterns select (the fine-tune form's
 * target picker). It reads run.json and the tokenizer's size and builds the parameter list from the config:
 * no weights are loaded and nothing is computed, so it runs beside training.
 */
import path from 'node:path';
import { RUN_JSON, TOKENIZER_FILE, readRunJson } from '../../../common/node/runFiles';
import { resolveModelConfig } from '../../../common/modelConfig';
import { modelConfigOfRun, parseRunConfig } from '../../../common/runConfig';
import { bertParamSpecs } from '../../models/bert/model';
import { gptParamSpecs } from '../../models/gpt/model';
import { loadTokenizer } from '../../tokenizers';
import { DEFAULT_TARGETS, adaptableModules, loraTargets } from '../../finetune/lora/targets';
import type { JobHandler } from '../job';

export const loraTargetsJob: JobHandler<'finetune.loraTargets'> = {
  usesDevice: false,
  async run(spec) {
    const dir = path.resolve(spec.runDir);
    const config = parseRunConfig((await readRunJson(dir)).config, path.join(dir, RUN_JSON));
    const model = resolveModelConfig(modelConfigOfRun(config, loadTokenizer(path.join(dir, TOKENIZER_FILE)).vocabSize));
    const source = { arch: model.arch, specs: model.arch === 'gpt' ? gptParamSpecs(model) : bertParamSpecs(model) };
    const defaults = [...DEFAULT_TARGETS[model.arch]];
    const patterns = spec.patterns?.length ? spec.patterns : defaults;
    const m = loraTargets(source, patterns);
    return {
      arch: model.arch, patterns, defaults, adaptable: adaptableModules(source), selected: m.modules.map((x) => x.name), counts: m.counts, problems: m.problems, suggestions: m.suggestions,
      totalParams: source.specs.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0),
    };
  },
};
