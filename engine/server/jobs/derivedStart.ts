/**
 * `derived.start`: a fine-tuning or compression run from another run's checkpoint, as an engine job. It
 * trains in the same loop as pretraining, so its events, controls and cancellation are pretraining's
 * (./pretrain.ts); `pretrain.resume` resumes it like any run. An int8 variant trains nothing: it is written in
 * one pass (engine/compression/int8Variant.ts) with the same events, and cancelled between its pieces.
 */
import { Trainer } from '../../training/trainer';
import { resolveDerivedRun } from '../../training/derivedRun';
import { isInt8Run, writeInt8Variant } from '../../compression/int8Variant';
import type { JobHandler } from '../job';
import { RunEventBatcher, follow } from './pretrain';

export const derivedStart: JobHandler<'derived.start'> = {
  usesDevice: true,
  backendOf: (spec) => spec.backend,
  async run(spec, ctx) {
    const config = await resolveDerivedRun({ task: spec.task, baseRunDir: spec.baseRunDir, baseCheckpoint: spec.baseCheckpoint, settings: spec.settings });
    const batcher = new RunEventBatcher((events) => ctx.runEvents(events));
    if (config.task === 'compress' && isInt8Run(config)) {
      const r = await writeInt8Variant(config, spec.runsDir, spec.name, { onEvent: (e) => batcher.push(e), signal: ctx.signal, backend: ctx.backend?.name, ...(spec.runId ? { runId: spec.runId } : {}) }).finally(() => batcher.flush());
      const v = r.quality.variant;
      // the figures beyond a run's (bytes, the base's loss, ONNX Runtime's) are in the variant's metrics.jsonl and checkpoint
      return {
        run_id: r.runId, run_dir: r.runDir, status: 'completed', steps: 0, final_train_loss: null, final_val_loss: v.loss, best_val_loss: v.loss,
        tokens_per_s: null, tokens_seen: 0, backend: ctx.backend!, precision: 'float32', ...(v.mlmAccuracy !== undefined ? { mlm_accuracy: v.mlmAccuracy } : {}),
      };
    }
    const trainer = await Trainer.startDerived(config, spec.runsDir, spec.name, {
      onEvent: (e) => batcher.push(e), backend: ctx.backend?.name, signal: ctx.signal,
      ...(spec.runId ? { runId: spec.runId } : {}),
    }).finally(() => batcher.flush());
    return follow(trainer, batcher, ctx);
  },
};
