/**
 * `derived.start`: a fine-tuning or compression run from another run's checkpoint, as an engine job. It
 * trains in the same loop as pretraining, so its events, controls and cancellation are pretraining's
 * (./pretrain.ts); `pretrain.resume` resumes it like any run.
 */
import { Trainer } from '../../training/trainer';
import { resolveDerivedRun } from '../../training/derivedRun';
import type { JobHandler } from '../job';
import { RunEventBatcher, follow } from './pretrain';

export const derivedStart: JobHandler<'derived.start'> = {
  usesDevice: true,
  backendOf: (spec) => spec.backend,
  async run(spec, ctx) {
    const config = await resolveDerivedRun({ task: spec.task, baseRunDir: spec.baseRunDir, baseCheckpoint: spec.baseCheckpoint, settings: spec.settings });
    const batcher = new RunEventBatcher((events) => ctx.runEvents(events));
    const trainer = await Trainer.startDerived(config, spec.runsDir, spec.name, {
      onEvent: (e) => batcher.push(e), backend: ctx.backend?.name, signal: ctx.signal,
      ...(spec.runId ? { runId: spec.runId } : {}),
    }).finally(() => batcher.flush());
    return follow(trainer, batcher, ctx);
  },
};
