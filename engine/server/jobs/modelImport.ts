/** `model.import`: a Hugging Face checkpoint folder into the experiment's runs folder, as `workbench import` does. */
import path from 'node:path';
import { importHfCheckpoint } from '../../import/hfCheckpoint';
import type { JobHandler } from '../job';

export const modelImport: JobHandler<'model.import'> = {
  // it builds the model once, to check every tensor against the model's own names and shapes
  usesDevice: true,
  async run(spec, ctx) {
    const steps = ['checking', 'reading weights', 'writing run'] as const;
    const r = await importHfCheckpoint(spec.sourceDir, path.join(spec.runsDir, spec.runId), {
      backend: ctx.backend!, name: spec.name, signal: ctx.signal,
      onProgress: (phase) => ctx.progress(steps.indexOf(phase), steps.length, { message: phase }),
    });
    ctx.progress(steps.length, steps.length, { message: 'done' });
    return { runId: spec.runId, runDir: r.runDir, architecture: r.config.source.architecture, parameters: r.parameters, notes: r.config.notes };
  },
};
