/**
 * Which runs a pretrain cell's dashboard overlays. The user's choices (a checkbox per run in the cell's
 * runs table, or picking a run in a runs list) are kept per cell as run id → shown; a run with no choice
 * is shown when a job of this window ran it, so a live run appears by itself and stays when it ends.
 * A cell with no choices and no such run shows its newest run. Pure functions of the store: uiSlice's
 * actions write with them, selectors read with them.
 */
import type { Store } from './store';

type RunState = Pick<Store, 'doc' | 'jobs' | 'runOverlay'>;

/** the cell's runs, oldest first, as its references in the experiment list them */
export function cellRunIds(s: Pick<Store, 'doc'>, cellId: string): string[] {
  const cell = s.doc?.cells.find((c) => c.id === cellId);
  return cell?.kind === 'pretrain' || cell?.kind === 'finetune' ? (cell.runs ?? []).map((r) => r.runId) : [];
}

const ranHere = (s: Pick<Store, 'jobs'>, runId: string) => Object.values(s.jobs).some((j) => j.runId === runId);
const isLive = (s: Pick<Store, 'jobs'>, runId: string) => Object.values(s.jobs).some((j) => j.runId === runId && j.ended === null);

/** The run ids the cell's dashboard overlays: live ones first, then newest first (the runs table's order). */
export function overlaidRunIds(s: RunState, cellId: string): string[] {
  const ids = cellRunIds(s, cellId);
  const choices = s.runOverlay[cellId] ?? {};
  let shown = ids.filter((id) => choices[id] ?? ranHere(s, id));
  if (shown.length === 0 && ids.length > 0 && !ids.some((id) => id in choices)) shown = [ids[ids.length - 1]];
  const newestFirst = shown.reverse();
  return [...newestFirst.filter((id) => isLive(s, id)), ...newestFirst.filter((id) => !isLive(s, id))];
}

/**
 * The cell's choices once `runId` is put on (or taken off) its dashboard: every run of the cell is
 * pinned as it is shown now, so that the defaults (the newest run, the runs of this window) do not
 * change under the user's hand; runs started later follow the default again.
 */
export function withRunOverlaid(s: RunState, cellId: string, runId: string, shown: boolean): Record<string, boolean> {
  const now = new Set(overlaidRunIds(s, cellId));
  const next = { ...(s.runOverlay[cellId] ?? {}) };
  for (const id of cellRunIds(s, cellId)) if (!(id in next)) next[id] = now.has(id);
  next[runId] = shown;
  return next;
}

/** the pretrain (or fine-tune) cell a run belongs to */
export function cellOfRun(s: Pick<Store, 'doc'>, runId: string): string | undefined {
  return s.doc?.cells.find((c) => (c.kind === 'pretrain' || c.kind === 'finetune') && (c.runs ?? []).some((r) => r.runId === runId))?.id;
}
