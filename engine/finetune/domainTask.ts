/**
 * Domain adaptation: a trained model continues its own objective (causal LM, masked LM) on new text — a
 * dataset tokenized with the base's tokenizer — with every weight training or through LoRA adapters. Its
 * evaluation is perplexity on the new text's held-out side (in-domain; the loop's validation figures) and on
 * the base's own held-out data (out-of-domain: what the adaptation costs), before the first step and after
 * every evaluation, in the run folder's domain_eval.json.
 */
import path from 'node:path';
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { EngineError } from '../../common/errors';
import { DOMAIN_EVAL_FILE, DomainEval } from '../../common/domainEval';
import { writeJsonAtomic } from '../../common/node/atomicWrite';
import { TOKENIZER_FILE } from '../../common/node/runFiles';
import { defaultObjective, type Objective } from '../../common/pretrainConfig';
import type { FinetuneRunConfig } from '../../common/runConfig';
import type { EvalResult } from '../../common/runEvents';
import { TokenizerConfig } from '../../common/tokenizerConfig';
import { createModel, type AnyModel } from '../models/registry';
import { loadRunModel } from '../runs/loadRunModel';
import { loadTokenizer } from '../tokenizers';
import { prepareBaseData, pretrainRootOf, type BaseData } from '../training/baseData';
import type { DerivedTaskContext, DerivedTaskKind } from '../training/derivedTasks';
import { evaluate } from '../training/evaluate';
import { checkMemory } from '../training/memoryBudget';
import { prepareData, toBatch, type HostBatch, type PreparedData } from '../training/pretrainData';
import type { TrainingTask } from '../training/task';
import { computeGradients, type Gradients } from '../training/trainStep';
import type { Rng } from '../util/random';
import { attachLora } from './lora/attach';

type DomainConfig = FinetuneRunConfig & { finetune: { data: { kind: 'domain' } } };

export const domainAdaptation: DerivedTaskKind<FinetuneRunConfig> = {
  loop: (config) => config.finetune.loop,
  prepare: (config, ctx) => prepareDomain(config as DomainConfig, ctx),
};

/** The base's pretraining cells where it has them (tokenizer, mask rate, the experiment's folder); an imported base has none. */
async function baseCells(baseRunDir: string) {
  try {
    return await pretrainRootOf(baseRunDir);
  } catch (err) {
    if (err instanceof EngineError && err.code === 'INVALID_CONFIG') return null;
    throw err;
  }
}

async function prepareDomain(config: DomainConfig, ctx: DerivedTaskContext): Promise<DomainTask> {
  const { loop, data: domain } = config.finetune;
  const emit = ctx.onEvent ?? (() => {});
  const objective: Objective = config.base.objective ?? defaultObjective(config.model.arch);
  const tokenizerFile = path.join(ctx.run.dir, TOKENIZER_FILE);
  const root = await baseCells(config.base.runDir);
  const seqLen = config.model.contextLength;
  checkMemory(config.model, loop.batchSize, seqLen, ctx.backend);
  const common = { batchSize: loop.batchSize, seqLen, evalBatches: loop.evalBatches, seed: loop.seed, tokenizerFile, cacheDir: ctx.cacheDir, signal: ctx.signal };
  const data = await prepareData(domain.dataset, root?.spec.tokenizer ?? TokenizerConfig.parse({ kind: loadTokenizer(tokenizerFile).kind }), {
    ...common, objective, maskProbability: root?.spec.pretrain.maskProbability ?? 0.15, reuseTokenizer: true,
    baseDir: domain.baseDir ?? root?.baseDir ?? process.cwd(),
    onProgress: (pr) => emit({ type: 'progress', ...pr }), onWarning: (message) => emit({ type: 'log', level: 'warning', message }),
    onInfo: (message) => emit({ type: 'log', level: 'info', message }),
  });
  let outOfDomain: BaseData | null = null;
  let model: AnyModel | null = null;
  try {
    if (root) outOfDomain = await prepareBaseData(config.base.runDir, common);
    else emit({ type: 'log', level: 'warning', message: `${config.base.runDir} has no pretraining data on record (an imported model): out-of-domain perplexity is not measured` });
    // resuming: the run's own checkpoint fills every weight, the adapters' included, right after
    model = ctx.resuming ? createModel(config.model, loop.seed) : (await loadRunModel(config.base.runDir, config.base.checkpoint, { backend: ctx.backend })).model;
    let trainable = model.params.names;
    if (config.finetune.method === 'lora') {
      const att = attachLora(model, config.finetune.lora, loop.seed);
      trainable = att.trainable;
      const pct = (100 * att.share.adapter) / att.share.total;
      emit({ type: 'log', level: 'info', message: `LoRA r=${att.config.r} alpha=${att.config.alpha} on ${att.targets.length} modules (${Object.entries(att.counts).map(([p, n]) => `${p}: ${n}`).join(', ')}): ${att.share.adapter.toLocaleString('en-US')} trainable of ${att.share.total.toLocaleString('en-US')} parameters (${pct.toFixed(2)}%)` });
    }
    const task = new DomainTask(model, trainable, data, outOfDomain?.data ?? null, objective, loop.batchSize * seqLen * loop.gradAccumSteps, path.join(ctx.run.dir, DOMAIN_EVAL_FILE));
    // resuming, the weights are not yet the run's (they come from its checkpoint after this): the base was measured at the start
    if (!ctx.resuming) await task.measureBefore();
    return task;
  } catch (err) {
    model?.dispose();
    data.close();
    outOfDomain?.data.close();
    throw err;
  }
}

export class DomainTask implements TrainingTask {
  constructor(
    readonly model: AnyModel, readonly trainable: readonly string[], private readonly data: PreparedData, private readonly outOfDomain: PreparedData | null,
    private readonly objective: Objective, readonly tokensPerStep: number, readonly evalFile: string,
  ) {}

  gradients(rng: Rng, microBatches: number, dropoutSeed: number): Gradients {
    const batches = Array.from({ length: microBatches }, () => toBatch(this.data.trainBatch(rng)));
    try {
      return computeGradients(this.model, batches, this.objective, dropoutSeed, this.trainable);
    } finally {
      batches.forEach((b) => tf.dispose(Object.values(b)));
    }
  }

  async evaluate() {
    const figures = { train: await evaluate(this.model, this.data.trainSample, this.objective), val: await evaluate(this.model, this.data.validation, this.objective) };
    await this.record('after', figures.val);
    return figures;
  }

  /** The base's perplexities before any step: what the adaptation is measured against. */
  async measureBefore(): Promise<void> {
    await this.record('before', await evaluate(this.model, this.data.validation, this.objective));
  }

  private async record(when: 'before' | 'after', inDomain: EvalResult): Promise<void> {
    const out = this.outOfDomain ? await evaluate(this.model, this.outOfDomain.validation, this.objective) : null;
    const prior = readDomainEval(this.evalFile);
    const entry = { inDomain: figure(inDomain, this.data.validation), outOfDomain: out && figure(out, this.outOfDomain!.validation), at: new Date().toISOString() };
    await writeJsonAtomic(this.evalFile, DomainEval.parse({ objective: this.objective, ...prior, [when]: entry }));
  }

  dispose(): void {
    this.data.close();
    this.outOfDomain?.close();
    this.model.dispose();
  }
}

function figure(r: EvalResult, batches: HostBatch[]) {
  return { loss: r.loss, perplexity: r.perplexity, sequences: batches.reduce((s, b) => s + b.B, 0) };
}

/** domain_eval.json as far as it is written (nothing yet: an empty record); a damaged one is started again. */
export function readDomainEval(file: string): Partial<DomainEval> {
  try {
    const r = DomainEval.partial().safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return r.success ? r.data : {};
  } catch {
    return {};
  }
}
