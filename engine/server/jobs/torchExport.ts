/** `torch.export`: an experiment's pretrain cell as a PyTorch project for a cluster, as `workbench export-torch` writes it. */
import { PretrainRunSpec } from '../../../common/runConfig';
import { invalidConfig } from '../../../common/zodIssues';
import { exportTorchProject } from '../../torchExport/exportTorch';
import type { JobHandler } from '../job';

const STAGES = 4; // dataset, data files, initial weights, project files

export const torchExport: JobHandler<'torch.export'> = {
  // it initialises the model with TensorFlow.js, the engine's seeded init
  usesDevice: true,
  async run(spec, ctx) {
    const parsed = PretrainRunSpec.safeParse({ name: spec.name, dataset: spec.dataset, tokenizer: spec.tokenizer, model: spec.model, pretrain: spec.pretrain });
    if (!parsed.success) throw invalidConfig(parsed.error);
    let stage = 0;
    const r = await exportTorchProject(parsed.data, spec.outDir, {
      baseDir: spec.baseDir, ...(spec.cellId ? { cellId: spec.cellId } : {}), overwrite: spec.overwrite, signal: ctx.signal,
      onProgress: (message) => ctx.progress(stage++, STAGES, { message }),
    });
    return { outDir: r.outDir, arch: r.arch, objective: r.objective, parameters: r.parameters, files: r.files };
  },
};
