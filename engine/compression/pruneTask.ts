/**
 * Pruning as a task of the training loop, on the base's data:
 *  - kind 'magnitude': the base model fine-tuned while its block matrices are thinned to the target sparsity
 *    on a cubic schedule (./pruneMagnitude.ts); sparsity per layer and overall is logged with every step
 *    and written to pruning.json.
 *  - kind 'heads': every head scored on the base (./pruneHeads.ts), the least important of each layer really
 *    removed, then a short fine-tune of the smaller model. pruning.json holds the importance grid (layer ×
 *    head) with the kept heads, the parameters, validation loss and forward latency of the base and the
 *    pruned model before the fine-tune, measured in the same process on the same input.
 * Either way the fine-tune is the base's objective, evaluated as pretraining is.
 */
import path from 'node:path';
import { writeFileAtomic, writeFileAtomicSync, jsonText } from '../../common/node/atomicWrite';
import type { PruneConfig } from '../../common/compressConfig';
import type { Objective } from '../../common/pretrainConfig';
import type { CompressRunConfig } from '../../common/runConfig';
import { PRUNING_FILE, type HeadPruningFile, type LatencyFigure, type MagnitudePruningFile } from '../../common/compressionFiles';
import { attentionProbeSet, measureHeads } from '../inspect/attentionMaps';
import { createModel, type AnyModel } from '../models/registry';
import type { DerivedTaskKind } from '../training/derivedTasks';
import { evaluate } from '../training/evaluate';
import { checkMemory } from '../training/memoryBudget';
import { toBatch, type PreparedData } from '../training/pretrainData';
import { PretrainTask } from '../training/pretrainTask';
import type { Gradients } from '../training/trainStep';
import type { Rng } from '../util/random';
import * as tf from '@tensorflow/tfjs-core';
import { interleavedLatency } from './latency';
import { attentionHeadImportance, gradientHeadImportance, headPrunedConfig, headsToRemove, keptHeads, removeHeads, type HeadGrid } from './pruneHeads';
import { MagnitudeMasks, cubicSparsity, prunableWeights } from './pruneMagnitude';
import { openBaseData, openBaseModel } from './variantBase';

export type PruneRunConfig = CompressRunConfig & { compress: PruneConfig };

class MagnitudePruneTask extends PretrainTask {
  private started = false;

  constructor(model: AnyModel, data: PreparedData, objective: Objective, tokensPerStep: number, seed: number,
    private readonly masks: MagnitudeMasks, private readonly cfg: PruneConfig, private readonly runDir: string) {
    super(model, data, objective, tokensPerStep, seed);
  }

  override gradients(rng: Rng, microBatches: number, dropoutSeed: number): Gradients {
    // after a resume the restored weights carry the masks as zeros; a fresh start from a dense base has none
    if (!this.started) this.masks.adoptZeros();
    this.started = true;
    return super.gradients(rng, microBatches, dropoutSeed);
  }

  afterStep(step: number): Record<string, number> {
    const { steps } = this.cfg.loop;
    const due = step % this.cfg.maskEvery === 0 || step === steps;
    // zeroed first, so that a weight once pruned ranks lowest and stays pruned (the masks only grow)
    this.masks.enforce();
    if (due) {
      this.masks.update(cubicSparsity(step, steps, this.cfg.sparsity, this.cfg.ramp));
      this.masks.enforce();
    }
    const r = this.masks.report();
    if (due) {
      const file: MagnitudePruningFile = { kind: 'magnitude', step, target: this.cfg.sparsity, sparsity: r.overall, layers: r.layers, weights: this.masks.names };
      writeFileAtomicSync(path.join(this.runDir, PRUNING_FILE), jsonText(file));
    }
    return { 'prune/sparsity': r.overall, ...Object.fromEntries(Object.entries(r.layers).map(([l, s]) => [`prune/sparsity/${l}`, s])) };
  }

  override dispose(): void {
    this.masks.dispose();
    super.dispose();
  }
}

/** Each head's importance on the base, by the configured method, on the fixed training-sample batches. */
function scoreHeads(base: AnyModel, data: PreparedData, objective: Objective, cfg: PruneConfig, seed: number): HeadGrid {
  if (cfg.importance === 'attention') {
    const probe = attentionProbeSet(base.config, data.tokenizer, data.trainSample[0], seed);
    return attentionHeadImportance(measureHeads(base, probe.sequences, probe.induction));
  }
  const batches = data.trainSample.map(toBatch);
  try {
    return gradientHeadImportance(base, batches, objective);
  } finally {
    batches.forEach((b) => tf.dispose(Object.values(b)));
  }
}

/** Scores, cuts and measures: the pruned model, with pruning.json written. */
async function cutHeads(base: AnyModel, data: PreparedData, objective: Objective, config: PruneRunConfig, runDir: string, backend: string): Promise<AnyModel> {
  const cfg = config.compress;
  const scores = scoreHeads(base, data, objective, cfg, cfg.loop.seed);
  const kept = keptHeads(scores, config.model.nHeads);
  const pruned = removeHeads(base, kept);
  try {
    const input = toBatch(data.validation[0]);
    let latency: LatencyFigure[];
    try {
      latency = interleavedLatency([base, pruned], input, 15);
    } finally {
      tf.dispose(Object.values(input));
    }
    const file: HeadPruningFile = {
      kind: 'heads',
      importance: { method: cfg.importance, scores },
      kept,
      removed: kept.map((row) => Array.from({ length: base.config.nHeads }, (_, h) => h).filter((h) => !row.includes(h))),
      before: { parameters: base.params.count, val: await evaluate(base, data.validation, objective), latency: latency[0] },
      afterCut: { parameters: pruned.params.count, val: await evaluate(pruned, data.validation, objective), latency: latency[1] },
      latencyInput: { batch: data.validation[0].B, length: data.validation[0].T, backend },
    };
    await writeFileAtomic(path.join(runDir, PRUNING_FILE), jsonText(file));
    return pruned;
  } catch (err) {
    pruned.dispose();
    throw err;
  }
}

export const pruneKind: DerivedTaskKind<PruneRunConfig> = {
  async modelOf(config, base) {
    if (config.compress.kind === 'magnitude') return base;
    return headPrunedConfig(base, headsToRemove(base, config.compress.headShare));
  },
  loop: (config) => config.compress.loop,
  async prepare(config, ctx) {
    const cfg = config.compress;
    const bd = await openBaseData(config, cfg.loop, ctx);
    let model: AnyModel | undefined;
    try {
      checkMemory(config.model, cfg.loop.batchSize, bd.seqLen, ctx.backend);
      const tokensPerStep = cfg.loop.batchSize * bd.data.validation[0].T * cfg.loop.gradAccumSteps;
      if (ctx.resuming) {
        model = createModel(config.model, cfg.loop.seed); // the run's own checkpoint fills it next
      } else {
        const base = await openBaseModel(config, cfg.kind === 'heads' ? 'its heads are scored and cut from it' : 'it is the model pruned');
        try {
          model = cfg.kind === 'heads' ? await cutHeads(base.model, bd.data, bd.objective, config, ctx.run.dir, ctx.backend) : base.model;
        } finally {
          if (model !== base.model) base.model.dispose();
        }
      }
      if (cfg.kind === 'heads') return new PretrainTask(model, bd.data, bd.objective, tokensPerStep, cfg.loop.seed);
      return new MagnitudePruneTask(model, bd.data, bd.objective, tokensPerStep, cfg.loop.seed, new MagnitudeMasks(model, prunableWeights(model)), cfg, ctx.run.dir);
    } catch (err) {
      model?.dispose();
      bd.data.close();
      throw err;
    }
  },
};
