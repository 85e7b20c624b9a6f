import { z } from 'zod';
import { COMPRESS_METHODS, CompressConfig } from './compressConfig';
import { CheckpointRef } from './inspect';
import { RunId } from './runFolder';
import { formatIssues } from './zodIssues';

/**
 * What the compress cell keeps in the experiment file: the base run and checkpoint, the method and each
 * method's settings as edited (common/compressConfig.ts's fields without `method`, kept per method so that
 * switching back finds them), and which variant's head divergence is shown. Variants are runs of the
 * experiment (found by their run.json's base), and the comparison is a file in the base run: neither is here.
 */
const Settings = z.record(z.string(), z.unknown());
export const CompressCellFields = z.object({
  /** a run of this experiment (NAME.runs/RUN_ID) to compress */
  baseRunId: RunId.optional(),
  checkpoint: CheckpointRef.default('last'),
  method: z.enum(COMPRESS_METHODS).default('int8'),
  settings: z.object({ int8: Settings.optional(), qat: Settings.optional(), distill: Settings.optional(), prune: Settings.optional() }).strict().default({}),
  /** the variant whose per-head divergence the heatmap shows */
  selectedVariant: RunId.optional(),
});
export type CompressCellFields = z.input<typeof CompressCellFields>;

/** The settings a `runs.derive` of the cell sends: the method's, checked; or the problems naming each field. */
export function compressSettingsOf(cell: { method?: CompressConfig['method']; settings?: CompressCellFields['settings'] }):
  { ok: true; settings: Record<string, unknown> } | { ok: false; problem: string } {
  const method = cell.method ?? 'int8';
  const settings = { ...(cell.settings?.[method] ?? {}), method };
  const r = CompressConfig.safeParse(settings);
  return r.success ? { ok: true, settings } : { ok: false, problem: formatIssues(r.error, { prefix: ['settings', method] }) };
}
