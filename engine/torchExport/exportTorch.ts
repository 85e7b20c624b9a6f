/**
 * An experiment's pretrain cell as a PyTorch project for a cluster (`workbench export-torch`): the Python
 * sources of ./project (copied as they are, never generated), parameterised by one JSON file beside them,
 * workbench-torch.json, that holds the resolved model config, the pretrain settings, the sampler's inputs and
 * run.json's config; the tokenized dataset as raw little-endian int32 files under data/; the tokenizer.json;
 * and the engine's seeded initial weights as init.safetensors, so that both engines start from one point.
 *
 *   OUT/ model.py sampler.py runfolder.py train.py launch.sh README.md requirements.txt
 *        workbench-torch.json tokenizer.json init.safetensors data/{train,validation}.*.bin
 *
 * The batches are not written out: sampler.py ports the engine's sampler (mulberry32 and the objectives'
 * batch builders) call for call, so that a run of any length draws the engine's batches in the engine's order.
 * The folder is written into a temporary beside OUT and renamed into place (as `workbench export` does).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../../common/errors';
import { resolveModelConfig } from '../../common/modelConfig';
import { jsonText, removeDeadWritersTemps, tempPathFor, writeAndSync } from '../../common/node/atomicWrite';
import { defaultObjective, pretrainModelIssues, type Objective } from '../../common/pretrainConfig';
import { runModelConfig, type PretrainRunSpec, type RunConfig } from '../../common/runConfig';
import { tokenStream } from '../data/dataset';
import type { TokenizedSplit } from '../data/types';
import { checkOutDir, listFiles, publish } from '../export/exportBundle';
import { createModel } from '../models/registry';
import { encodeSafetensors } from '../runs/safetensors';
import { documentsOf, prepareData } from '../training/pretrainData';
import { loopSettings } from '../training/task';
import { runCooperatively } from '../util/cooperative';

export const TORCH_CONFIG_FILE = 'workbench-torch.json';
export const TORCH_CONFIG_FORMAT = 'transformer-workbench.torch-project';
export const PROJECT_FILES = ['model.py', 'sampler.py', 'runfolder.py', 'train.py', 'launch.sh', 'README.md', 'requirements.txt'] as const;
const PROJECT_DIR = path.join(import.meta.dirname, 'project');

export interface ExportTorchOptions {
  /** the experiment file's folder: the dataset's relative paths resolve against it */
  baseDir: string;
  /** the pretrain cell exported: its runs record it, so that the notebook lists them under that cell */
  cellId?: string;
  /** the tokenized-dataset cache; null: none; default the user cache */
  cacheDir?: string | null;
  /** replace a non-empty OUT (default: refuse it) */
  overwrite?: boolean;
  /** processes launch.sh starts per node when NPROC_PER_NODE is unset */
  processes?: number;
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

export interface ExportTorchResult {
  outDir: string;
  arch: 'gpt' | 'bert';
  objective: Objective;
  parameters: number;
  files: { file: string; bytes: number }[];
}

const refuse = (message: string, field: (string | number)[]) => new EngineError('INVALID_CONFIG', message, field);

/** The options of the engine's models that the PyTorch project does not port, refused with the way out. */
export function unportedOptions(spec: PretrainRunSpec): EngineError | null {
  const m = spec.model;
  if (m.attention === 'linear') return refuse("model.attention: linear attention is not ported to the PyTorch project; set attention to 'softmax' to export, or train this model in the workbench", ['model', 'attention']);
  if (m.moe) return refuse('model.moe: mixture-of-experts layers are not ported to the PyTorch project; remove moe to export, or train this model in the workbench', ['model', 'moe']);
  return null;
}

export async function exportTorchProject(spec: PretrainRunSpec, outDir: string, o: ExportTorchOptions): Promise<ExportTorchResult> {
  const out = path.resolve(outDir);
  const p = spec.pretrain;
  const unported = unportedOptions(spec);
  if (unported) throw unported;
  const issue = pretrainModelIssues(p, spec.model)[0];
  if (issue) throw refuse(issue.full, ['pretrain', issue.field]);
  if (o.processes !== undefined && p.batchSize % o.processes) {
    throw refuse(`--processes ${o.processes}: the batch of ${p.batchSize} sequences cannot be split evenly over ${o.processes} processes; choose a divisor of ${p.batchSize}, or change pretrain.batchSize`, ['pretrain', 'batchSize']);
  }
  const experimentDir = path.resolve(o.baseDir);
  if (experimentDir === out || experimentDir.startsWith(out + path.sep)) throw refuse(`--out ${out}: holds the experiment; export into a folder of its own`, ['out']);
  checkOutDir(out, '', o.overwrite ?? false);
  const objective = p.objective ?? defaultObjective(spec.model.arch);
  const seqLen = p.seqLen ?? spec.model.contextLength;
  const say = o.onProgress ?? (() => undefined);

  await fsp.mkdir(path.dirname(out), { recursive: true });
  await removeDeadWritersTemps(out);
  const temp = tempPathFor(out);
  await fsp.mkdir(path.join(temp, 'data'), { recursive: true });
  try {
    say('preparing the dataset and the tokenizer as the workbench does');
    const data = await prepareData(spec.dataset, spec.tokenizer, {
      objective, batchSize: p.batchSize, seqLen, maskProbability: p.maskProbability, evalBatches: p.evalBatches, seed: p.seed,
      baseDir: o.baseDir, cacheDir: o.cacheDir, tokenizerFile: path.join(temp, 'tokenizer.json'), reuseTokenizer: false, signal: o.signal,
    });
    let files: Record<'train' | 'validation', Record<string, string>>;
    try {
      if (!data.dataset) {
        throw refuse(`dataset.source: ${JSON.stringify(spec.dataset.source)} is large enough to be read as a stream, which the PyTorch export does not take yet; cut it into files under 64 MiB in a folder source`, ['dataset', 'source']);
      }
      say('writing the tokenized dataset');
      const sep = data.tokenizer.specialIds.sep;
      files = {
        train: await writeSplit(temp, 'train', data.dataset.train, objective, sep, o.signal),
        validation: await writeSplit(temp, 'validation', data.dataset.validation, objective, sep, o.signal),
      };
    } finally {
      data.close();
    }

    say('initialising the model with the experiment\'s seed');
    const modelConfig = runModelConfig(spec.model, data.tokenizer.vocabSize);
    const model = createModel(modelConfig, p.seed);
    let parameters = 0;
    try {
      const tensors = [...model.params.variables].map(([name, v]) => ({ name, dtype: 'F32' as const, shape: v.shape, data: v.dataSync() as Float32Array }));
      parameters = model.params.count;
      await writeAndSync(path.join(temp, 'init.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));
      const runConfig: RunConfig = { task: 'pretrain', spec, baseDir: path.resolve(o.baseDir) };
      const special = data.tokenizer.specialIds;
      await writeAndSync(path.join(temp, TORCH_CONFIG_FILE), jsonText({
        format: TORCH_CONFIG_FORMAT,
        version: 1,
        name: spec.name,
        ...(o.cellId ? { cellId: o.cellId } : {}),
        exported: new Date().toISOString(),
        model: resolveModelConfig(modelConfig),
        decay: model.params.specs.filter((s) => s.decay).map((s) => s.name),
        initialWeights: 'init.safetensors',
        tokenizer: 'tokenizer.json',
        training: {
          objective, seqLen, batchSize: p.batchSize, gradAccumSteps: p.gradAccumSteps, steps: p.steps, seed: p.seed,
          optimizer: p.optimizer, schedule: p.schedule, clipNorm: loopSettings(p).clipNorm ?? 0, maskProbability: p.maskProbability,
          evalInterval: p.evalInterval, evalBatches: p.evalBatches, checkpointInterval: p.checkpointInterval, keepCheckpoints: p.keepCheckpoints,
        },
        data: {
          ...files,
          ...(objective === 'causal-lm' ? {} : { specials: { pad: special.pad, unk: special.unk, cls: special.cls, sep: special.sep, mask: special.mask } }),
        },
        runConfig,
      }));
    } finally {
      model.dispose();
    }

    say('copying the PyTorch project');
    for (const f of PROJECT_FILES.filter((f) => f !== 'launch.sh')) await fsp.copyFile(path.join(PROJECT_DIR, f), path.join(temp, f));
    // the one parameter of launch.sh: how many processes a node starts when NPROC_PER_NODE is unset
    const launch = (await fsp.readFile(path.join(PROJECT_DIR, 'launch.sh'), 'utf8')).replace('NPROC_PER_NODE:-1}', `NPROC_PER_NODE:-${o.processes ?? 1}}`);
    await writeAndSync(path.join(temp, 'launch.sh'), launch, 0o755);
    if (o.signal?.aborted) throw new EngineError('JOB_CANCELLED', `export-torch cancelled; ${out} was not written`);
    await publish(temp, out);
    return { outDir: out, arch: spec.model.arch, objective, parameters, files: await listFiles(out) };
  } catch (err) {
    await fsp.rm(temp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * One split as the sampler reads it: the token stream (documents joined by [SEP] where the tokenizer has one)
 * for causal LM and MLM; for NSP, the documents the engine draws pairs from (empty sentences and documents
 * left out as it leaves them out) as tokens, sentence offsets and document offsets.
 */
async function writeSplit(dir: string, name: string, split: TokenizedSplit, objective: Objective, sep: number | undefined, signal?: AbortSignal): Promise<Record<string, string>> {
  const write = async (suffix: string, a: Int32Array) => {
    const file = `data/${name}.${suffix}.bin`;
    await writeAndSync(path.join(dir, file), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return file;
  };
  if (objective !== 'mlm-nsp') return { tokens: await write('tokens', tokenStream(split, sep)) };
  const docs = await runCooperatively(documentsOf(split), 'export-torch', signal);
  const sentences = docs.flat();
  const tokens = Int32Array.from(sentences.flat());
  const sentenceOffsets = new Int32Array(sentences.length + 1);
  sentences.forEach((s, i) => { sentenceOffsets[i + 1] = sentenceOffsets[i] + s.length; });
  const documentOffsets = new Int32Array(docs.length + 1);
  docs.forEach((d, i) => { documentOffsets[i + 1] = documentOffsets[i] + d.length; });
  return {
    sentenceTokens: await write('sentences', tokens),
    sentenceOffsets: await write('sentenceOffsets', sentenceOffsets),
    documentOffsets: await write('documentOffsets', documentOffsets),
  };
}

