import { useShallow } from 'zustand/react/shallow';
import { pretrainInputs } from '../../common/experiment';
import { emptyWorkbenchState, type WorkbenchState } from '../../common/workbenchState';
import { type CellInput, pretrainCellHash, pretrainModelIssues, runJsonHash, validateCell } from '../lib/cellConfig';
import { overlaidRunIds } from './runSelection';
import { finetuneCannotRun } from '../finetune/finetuneGuard';
import type { Job, RunListItem } from './runsSlice';
import { type Store, useStore } from './store';

/** Selectors: plain functions of the store, so commands (`enabled`) and components share them. */
export const isDirty = (s: Store): boolean => s.doc !== null && s.doc !== s.savedDoc;
export const selectedCell = (s: Store): CellInput | undefined => s.doc?.cells.find((c) => c.id === s.selectedCellId);
export const cellIndex = (s: Store, id: string | null): number => (id && s.doc ? s.doc.cells.findIndex((c) => c.id === id) : -1);
export const activeJobOf = (s: Store, cellId: string | undefined): Job | undefined =>
  cellId ? Object.values(s.jobs).find((j) => j.cellId === cellId && j.ended === null) : undefined;
export const anyActiveJob = (s: Store): Job | undefined => Object.values(s.jobs).find((j) => j.ended === null);

/** The 'invalid' mark: JSON that does not parse, a config its schema refuses, or a pretrain config its model cannot train with. */
export function isCellInvalid(s: Store, cellId: string): boolean {
  const cell = s.doc?.cells.find((c) => c.id === cellId);
  if (!cell) return false;
  if (s.jsonErrors[cellId] || validateCell(cell).length) return true;
  if (cell.kind !== 'pretrain') return false;
  const { model } = pretrainInputs(s.doc!.cells, cellId);
  return model !== undefined && pretrainModelIssues(cell.pretrain, model.model).length > 0;
}

/** Why a cell cannot run now, or null when it can. */
export function cannotRun(s: Store, cellId: string | undefined): string | null {
  const cell = s.doc?.cells.find((c) => c.id === cellId);
  if (!cell) return 'select a cell first';
  if (cell.kind === 'notes') return null;
  if (s.jsonErrors[cell.id]) return `its JSON does not parse: ${s.jsonErrors[cell.id]}`;
  const issues = validateCell(cell);
  if (issues.length) return `its config is invalid: ${issues[0].path.join('.') || '(config)'}: ${issues[0].message}`;
  if (cell.kind === 'pretrain') {
    for (const up of s.doc!.cells) {
      if (up.kind !== 'dataset' && up.kind !== 'model') continue;
      if (s.jsonErrors[up.id] || validateCell(up).length) return `fix the ${up.kind} cell '${up.id}' first`;
    }
    const { dataset, model } = pretrainInputs(s.doc!.cells, cell.id);
    if (!dataset) return 'add a dataset cell above it';
    if (!model) return 'add a model cell above it';
    // what the trainer would refuse at step 0, in its words
    const clash = pretrainModelIssues(cell.pretrain, model.model)[0];
    if (clash) return clash.engineMessage;
    if (activeJobOf(s, cell.id)) return 'it is running';
    if (s.engine && (s.engine.state === 'crashed' || s.engine.state === 'stopped')) return 'the engine is not running; restart it';
  }
  if (cell.kind === 'finetune') return finetuneCannotRun(s, cell);
  return null;
}

/** What is kept beside the experiment file (NAME.runs/workbench-state.json): previews and overlay choices. */
export function workbenchStateOf(s: Store): WorkbenchState {
  return { ...emptyWorkbenchState(), previews: s.savedPreviews, overlay: s.runOverlay };
}

export interface InferredVocab { vocab: number; exact: boolean; from: string }

/** The vocabulary a model cell gets when it leaves vocabSize out: its dataset cell's tokenizer's (approximate for char). */
export function inferredVocab(s: Store, cellId: string): InferredVocab {
  const cells = s.doc?.cells ?? [];
  const at = cells.findIndex((c) => c.id === cellId);
  const ds = [...cells.slice(0, Math.max(at, 0))].reverse().find((c) => c.kind === 'dataset') ?? cells.find((c) => c.kind === 'dataset');
  if (!ds || ds.kind !== 'dataset') return { vocab: 8000, exact: false, from: 'no dataset cell; assumed' };
  // this session's preview, or the one kept beside the file from an earlier session (the dataset cell shows the same)
  const previewed = s.previews[ds.id]?.result?.vocabSize ?? s.savedPreviews[ds.id]?.vocabSize;
  if (previewed) return { vocab: previewed, exact: true, from: 'the previewed tokenizer' };
  const t = ds.tokenizer as { kind?: string; vocabSize?: number };
  if (t.kind === 'char') return { vocab: 96, exact: false, from: 'characters; preview the data for the exact count' };
  return { vocab: t.vocabSize ?? 8000, exact: true, from: `the ${t.kind} tokenizer's target` };
}

/** The configs hash each past run of a pretrain cell was started from, by run id (for the stale mark). */
function runHashes(s: Store): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const r of s.history) if (r.ok) m.set(r.run.id, runJsonHash(r.run));
  for (const j of Object.values(s.jobs)) if (j.runId && !m.has(j.runId)) m.set(j.runId, j.configHash);
  return m;
}

/** A pretrain cell's output is stale when its newest run started from other configs than the current ones. */
export function pretrainStale(s: Store, cellId: string): boolean {
  const cell = s.doc?.cells.find((c) => c.id === cellId);
  if (!cell || cell.kind !== 'pretrain' || !cell.runs?.length) return false;
  const latest = cell.runs[cell.runs.length - 1];
  const then = runHashes(s).get(latest.runId);
  const now = pretrainCellHash(s.doc!.cells, cellId);
  return then !== undefined && then !== null && now !== null && then !== now;
}

export const useDocMeta = () => useStore(useShallow((s) => ({
  name: s.doc?.name ?? null,
  path: s.path,
  dirty: isDirty(s),
  hasDoc: s.doc !== null,
})));
export const useCellIds = () => useStore(useShallow((s) => s.doc?.cells.map((c) => c.id) ?? []));
export const useCell = (id: string) => useStore((s) => s.doc?.cells.find((c) => c.id === id));
export const useJobsOf = (cellId: string) => useStore(useShallow((s) => Object.values(s.jobs).filter((j) => j.cellId === cellId)));
/** the runs a pretrain cell's dashboard overlays, live first, then newest first */
export { overlaidRunIds } from './runSelection';
export const useOverlaidRuns = (cellId: string): string[] => useStore(useShallow((s) => overlaidRunIds(s, cellId)));
export const useHistoryOf = (runIds: readonly string[]): RunListItem[] =>
  useStore(useShallow((s) => s.history.filter((r) => runIds.includes(r.id))));
