/**
 * Quantization-aware training as a derived run (engine/training/derivedTasks.ts): the base's model
 * fine-tuned on the base's pretraining data for N steps while its forward pass runs as int8 — every weight
 * that will be int8 fake-quantized per output channel through the weight view (engine/models/params.ts), and
 * the input of every int8 projection fake-quantized through the activation hook (engine/models/base.ts), per
 * token or with scales calibrated once at the start (kept in the run folder, ./calibrate.ts). Gradients pass
 * the rounding straight through (./fakeQuant.ts) to the float32 weights the optimizer keeps, which the
 * run's checkpoints hold, so it pauses and resumes like any run; its dashboard's losses are the int8
 * forward's. Its int8 form is the int8 variant written from its last checkpoint (`workbench compress
 * --method qat` does that when the run completes), with the very scales it trained with.
 */
import path from 'node:path';
import type { QatConfig } from '../../common/compressConfig';
import { EngineError } from '../../common/errors';
import { TOKENIZER_FILE } from '../../common/node/runFiles';
import type { CompressRunConfig } from '../../common/runConfig';
import { createModel, type AnyModel } from '../models/registry';
import { loadRunModel } from '../runs/loadRunModel';
import { prepareBaseData } from '../training/baseData';
import type { DerivedTaskKind } from '../training/derivedTasks';
import { checkMemory } from '../training/memoryBudget';
import { PretrainTask } from '../training/pretrainTask';
import { Rng } from '../util/random';
import { ACTIVATION_SCALES_FILE, calibrate, readScalesFile, writeScalesFile } from './calibrate';
import { fakeQuantActivationView, fakeQuantWeightView } from './fakeQuant';
import { int8Layout } from './int8Layout';

export type QatRunConfig = CompressRunConfig & { compress: QatConfig };

/** The calibration draws its batches from a stream of its own, so the training data's order is the seed's whatever the calibration. */
const CALIBRATION_STREAM = 0x9a7c;

export const qatTask: DerivedTaskKind<QatRunConfig> = {
  loop: (config) => config.compress.loop,

  async prepare(config, ctx) {
    const c = config.compress;
    const loop = c.loop;
    const emit = ctx.onEvent ?? (() => {});
    const base = await prepareBaseData(config.base.runDir, {
      batchSize: loop.batchSize, evalBatches: loop.evalBatches, seed: loop.seed,
      tokenizerFile: path.join(ctx.run.dir, TOKENIZER_FILE), cacheDir: ctx.cacheDir, onEvent: ctx.onEvent, signal: ctx.signal,
    });
    let model: AnyModel | undefined;
    try {
      checkMemory(config.model, loop.batchSize, base.seqLen, ctx.backend);
      // resuming, the weights come from the run's own checkpoint right after
      model = ctx.resuming ? createModel(config.model, loop.seed) : (await loadRunModel(config.base.runDir, config.base.checkpoint)).model;
      const layout = int8Layout(model, c.keepFloat);
      model.params.setView(fakeQuantWeightView(layout.axes));
      let scales: Record<string, number> | undefined;
      if (c.activations.mode === 'static') {
        scales = (await readScalesFile(ctx.run.dir)) ?? undefined;
        if (!scales && ctx.resuming) {
          throw new EngineError('INVALID_CONFIG', `${path.join(ctx.run.dir, ACTIVATION_SCALES_FILE)}: missing, so the run cannot go on with the activation ranges it started with; start the QAT run again from its base`, ['compress', 'activations']);
        }
        if (!scales) {
          const rng = new Rng((loop.seed ^ CALIBRATION_STREAM) >>> 0);
          const batches = Array.from({ length: c.activations.calibrationBatches }, () => base.data.trainBatch(rng));
          scales = await calibrate(model, batches, base.objective, layout.sites, c.activations, ctx.signal);
          await writeScalesFile(ctx.run.dir, scales);
        }
      }
      model.activationView = fakeQuantActivationView(layout.sites, scales);
      emit({ type: 'log', level: 'info', message: `QAT: ${layout.axes.size} weights fake-quantized to int8 per output channel, the inputs of ${layout.sites.size} projections ${scales ? `with ${Object.keys(scales).length} calibrated ranges (${c.activations.observer})` : 'per token'}; the optimizer updates the float32 weights (straight-through estimator)` });
      return new PretrainTask(model, base.data, base.objective, loop.batchSize * base.data.validation[0].T * loop.gradAccumSteps, loop.seed);
    } catch (err) {
      model?.dispose();
      base.data.close();
      throw err;
    }
  },
};
