/**
 * The data a base run was pretrained on, for the runs derived from it: a distilled student trains on its
 * teacher's data, QAT and pruning fine-tune on it, int8 calibrates on it, and the comparison measures every
 * variant on its held-out side. The dataset is read and split as the base's pretraining did (same cells,
 * same split seed: the same validation documents) and tokenized with the base's tokenizer, never a new one.
 */
import path from 'node:path';
import { EngineError } from '../../common/errors';
import { RUN_JSON, readRunJson } from '../../common/node/runFiles';
import { defaultObjective, type Objective } from '../../common/pretrainConfig';
import { parseRunConfig, type PretrainRunSpec } from '../../common/runConfig';
import type { RunEvent } from '../../common/runEvents';
import { prepareData, type PreparedData } from './pretrainData';

export interface BaseDataOptions {
  batchSize: number;
  /** tokens per sequence; default the base's */
  seqLen?: number;
  evalBatches: number;
  /** the data order's seed (the validation split is the dataset cell's own, whatever this is) */
  seed: number;
  /** the base's tokenizer.json (a derived run's copy of it) */
  tokenizerFile: string;
  cacheDir?: string | null;
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
}

export interface BaseData {
  data: PreparedData;
  objective: Objective;
  seqLen: number;
  /** the pretraining run whose dataset this is (the base itself, or the base's own base for a variant of a variant) */
  rootRunDir: string;
}

/** How far a chain of variants of variants is followed back to its pretraining run. */
const MAX_LINEAGE = 16;

/** The pretraining run at the root of `runDir`'s lineage and its cells, or INVALID_CONFIG saying why there is none. */
export async function pretrainRootOf(runDir: string): Promise<{ runDir: string; spec: PretrainRunSpec; baseDir: string }> {
  let dir = path.resolve(runDir);
  for (let hop = 0; hop < MAX_LINEAGE; hop++) {
    const json = await readRunJson(dir).catch((err: Error) => { throw new EngineError('INVALID_CONFIG', `${err.message}; the data of a derived run is its base's, read from the base's run.json`, ['base', 'runDir']); });
    const config = parseRunConfig(json.config, path.join(dir, RUN_JSON));
    if (config.task === 'pretrain') return { runDir: dir, spec: config.spec, baseDir: config.baseDir };
    if (config.task === 'import') {
      throw new EngineError('INVALID_CONFIG', `${dir}: was imported from ${config.source.dir} and has no training data on record; pretrain or fine-tune it on a dataset of the experiment first, and start from that run`, ['base', 'runDir']);
    }
    dir = config.base.runDir;
  }
  throw new EngineError('INVALID_CONFIG', `${runDir}: its lineage is more than ${MAX_LINEAGE} runs deep (or loops); start from a run nearer its pretraining`, ['base', 'runDir']);
}

/** The base's pretraining data, tokenized with the base's tokenizer, in batches of the given shape. */
export async function prepareBaseData(baseRunDir: string, o: BaseDataOptions): Promise<BaseData> {
  const root = await pretrainRootOf(baseRunDir);
  const { spec } = root;
  const objective = spec.pretrain.objective ?? defaultObjective(spec.model.arch);
  const seqLen = o.seqLen ?? spec.pretrain.seqLen ?? spec.model.contextLength;
  const emit = o.onEvent ?? (() => {});
  const data = await prepareData(spec.dataset, spec.tokenizer, {
    objective, batchSize: o.batchSize, seqLen, maskProbability: spec.pretrain.maskProbability, evalBatches: o.evalBatches, seed: o.seed,
    baseDir: root.baseDir, cacheDir: o.cacheDir, tokenizerFile: o.tokenizerFile, reuseTokenizer: true,
    onProgress: (pr) => emit({ type: 'progress', ...pr }), onWarning: (message) => emit({ type: 'log', level: 'warning', message }),
    onInfo: (message) => emit({ type: 'log', level: 'info', message }), signal: o.signal,
  });
  return { data, objective, seqLen, rootRunDir: root.runDir };
}
