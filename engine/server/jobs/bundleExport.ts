/** `bundle.export`: a run's checkpoint as a bundle other tools load, as `workbench export` writes it. */
import { exportBundle, type ExportStage } from '../../export/exportBundle';
import type { JobHandler } from '../job';

const STAGES: ExportStage[] = ['open', 'safetensors', 'config', 'tokenizer', 'onnx', 'onnx-int8', 'verify', 'card', 'publish'];

export const bundleExport: JobHandler<'bundle.export'> = {
  // it opens the model and runs the bundle's files on a probe to verify them
  usesDevice: true,
  async run(spec, ctx) {
    const r = await exportBundle(spec.runDir, spec.checkpoint, spec.outDir, {
      overwrite: spec.overwrite, signal: ctx.signal,
      onProgress: (p) => ctx.progress(STAGES.indexOf(p.stage), STAGES.length, { message: p.message }),
    });
    return { outDir: r.outDir, architecture: r.architecture, checkpoint: r.checkpoint.name, files: r.files, checks: r.report.checks, notes: r.notes };
  },
};
