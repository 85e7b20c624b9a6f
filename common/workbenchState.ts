import { z } from 'zod';
import { DatasetSummary } from './datasetConfig';
import { CellId, inRunsDir } from './experiment';
import { RunId } from './runFolder';
import { formatIssues } from './zodIssues';

/**
 * What the workbench keeps beside an experiment file rather than in it: the dataset cells' last previews
 * (they hold the machine's absolute path of the data and a time) and the UI's choices (the runs each
 * pretrain cell overlays). It lives in the runs folder, `NAME.runs/workbench-state.json`, which holds
 * per-machine results anyway (and which a project's .gitignore leaves out), so the experiment file stays
 * what a researcher wrote: it diffs cleanly, and a colleague who opens it gets no one else's machine in it.
 * The host reads it with parseWorkbenchState: a damaged one is ignored with a warning, never blocks opening.
 */
export const WORKBENCH_STATE_FILE = 'workbench-state.json';
export const WORKBENCH_STATE_FORMAT = 'transformer-workbench.state';
export const WORKBENCH_STATE_VERSION = 1;
/** A state file larger than this is not read (it holds summaries and ticks, a few kB per cell). */
export const MAX_WORKBENCH_STATE_BYTES = 4 * 1024 * 1024;

/** A dataset cell's last preview, minus its samples; `configHash` tells whether the config changed since. */
export const DatasetCellSummary = DatasetSummary.extend({ configHash: z.string().max(64), at: z.iso.datetime() }).strict();
export type DatasetCellSummary = z.infer<typeof DatasetCellSummary>;

export const WorkbenchState = z.object({
  format: z.literal(WORKBENCH_STATE_FORMAT),
  version: z.literal(WORKBENCH_STATE_VERSION),
  /** by dataset cell id */
  previews: z.record(CellId, DatasetCellSummary),
  /** by pretrain cell id: run id → put on the cell's dashboard (true) or taken off (false) */
  overlay: z.record(CellId, z.record(RunId, z.boolean())),
}).strict();
export type WorkbenchState = z.infer<typeof WorkbenchState>;

export const emptyWorkbenchState = (): WorkbenchState => ({ format: WORKBENCH_STATE_FORMAT, version: WORKBENCH_STATE_VERSION, previews: {}, overlay: {} });

/** NAME.runs/workbench-state.json for NAME.experiment.json. */
export function workbenchStatePath(experimentFile: string): string {
  return inRunsDir(experimentFile, WORKBENCH_STATE_FILE);
}

/** Reads a state file's JSON value: the state, or why it cannot be used (the caller starts from an empty one). */
export function parseWorkbenchState(raw: unknown): { ok: true; value: WorkbenchState } | { ok: false; problem: string } {
  const r = WorkbenchState.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, problem: formatIssues(r.error) };
}
