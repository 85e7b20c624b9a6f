import { z } from 'zod';

/**
 * An exported bundle as the workbench reports it (engine/export/exportBundle.ts): where it went, what it
 * holds, and how its files compared with the in-app model when they were read back.
 */

/** One file of the bundle read back and run on the probe: its largest error relative to the in-app model's logits. */
export const BundleCheck = z.object({
  file: z.string(),
  /** what ran it: the engine, or onnxruntime-node */
  runtime: z.string(),
  relError: z.number(),
  tolerance: z.number(),
  ok: z.boolean(),
}).strict();

export const BundleExportResult = z.object({
  outDir: z.string(),
  /** the Hugging Face class it was written as, e.g. GPT2LMHeadModel */
  architecture: z.string(),
  checkpoint: z.string(),
  files: z.array(z.object({ file: z.string(), bytes: z.number().int().min(0) }).strict()),
  checks: z.array(BundleCheck),
  notes: z.array(z.string()),
}).strict();
export type BundleExportResult = z.infer<typeof BundleExportResult>;

/** Where the UI exports a run's bundle by default: beside the experiment, never inside its runs folder (runs.list would take it for a run). */
export const BUNDLES_DIR = 'bundles';
