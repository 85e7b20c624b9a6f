import { z } from 'zod';

/**
 * An experiment's pretrain cell exported as a PyTorch project (`workbench export-torch`, engine/torchExport/):
 * where it went and what it holds. Its runs (torchrun, DDP, ZeRO-1, FSDP) come back as run folders.
 */
export const TorchExportResult = z.object({
  outDir: z.string(),
  arch: z.enum(['gpt', 'bert']),
  objective: z.enum(['causal-lm', 'mlm', 'mlm-nsp']),
  parameters: z.number().int().min(0),
  files: z.array(z.object({ file: z.string(), bytes: z.number().int().min(0) }).strict()),
}).strict();
export type TorchExportResult = z.infer<typeof TorchExportResult>;

/** Where the UI exports a pretrain cell's project by default: torch/CELL_ID beside the experiment (never inside its runs folder). */
export const TORCH_PROJECTS_DIR = 'torch';
