import type { ExperimentInput } from '../../common/experiment';
import { parseExperiment } from '../../common/experiment';
import { emptyWorkbenchState, type WorkbenchState } from '../../common/workbenchState';
import { errorMessage, getApi } from '../api';
import { fileName } from '../lib/format';
import { scrollNotebookToTop } from '../lib/reveal';
import { isDirty, workbenchStateOf } from '../state/selectors';
import { useStore } from '../state/store';
import { refreshHistory } from './runs';

/**
 * Experiment files: open, new from a template, save, save as and autosave. The host reads, migrates and
 * validates; a malformed or newer file is refused with its message, shown here, and never written.
 */

const store = useStore;

/**
 * The document as it is written to disk: the UI's collapse state folded into the cells. A cell whose
 * state did not change is sent as it is, so that an unedited save writes the same bytes.
 */
export function serialize(doc: ExperimentInput): ExperimentInput {
  const collapsed = store.getState().collapsed;
  return {
    ...doc,
    cells: doc.cells.map((c) => {
      const want = collapsed[c.id] === true;
      if ((c.collapsed === true) === want) return c;
      const { collapsed: _c, ...rest } = c;
      return want ? { ...rest, collapsed: true } : rest;
    }),
  };
}

/** what was last written beside (or read from beside) the file at `path`: an unchanged state is not written again */
let stateOnDisk: { path: string; json: string } | null = null;

/** `stateWritten`: `state` is what lies beside the file (not previews a version 1 file carried in itself, to be written there) */
function adopt(doc: ExperimentInput, path: string | null, mtimeMs: number | null, state: WorkbenchState = emptyWorkbenchState(), stateWritten = true): void {
  const s = store.getState();
  // another experiment starts at its top; the same file read again stays where the user was
  if (path === null || path !== s.path) scrollNotebookToTop();
  stateOnDisk = path && stateWritten ? { path, json: JSON.stringify(state) } : null;
  s.loadWorkbenchState(state);
  s.loadDocument(doc, path, mtimeMs);
  s.resetCollapsed(Object.fromEntries(doc.cells.filter((c) => c.collapsed).map((c) => [c.id, true])));
  s.selectCell(doc.cells[0]?.id ?? null);
  s.selectRun(null);
  s.setHistory([]);
  for (const b of s.banners) if (b.id.startsWith('doc-')) s.dismissBanner(b.id);
  if (path) void refreshHistory();
}

/** Asks before a change that would drop unsaved edits; true when it may go ahead. */
export function confirmDiscard(what: string): boolean {
  if (!isDirty(store.getState())) return true;
  return window.confirm(`The experiment has unsaved changes. ${what} anyway and lose them?`);
}

export async function openExperiment(path: string): Promise<boolean> {
  const s = store.getState();
  s.setBusy(`Opening ${path}`);
  try {
    const r = await getApi().call('experiments.open', { path });
    adopt(r.doc as ExperimentInput, r.path, r.mtimeMs, r.state, r.migratedFrom === undefined);
    if (r.stateWarning) s.showBanner({ id: 'doc-state', tone: 'warning', title: 'The previews and run choices kept beside the file were damaged', message: r.stateWarning });
    if (r.migratedFrom !== undefined) {
      s.showBanner({ id: 'doc-migrated', tone: 'info', title: `Updated from format version ${r.migratedFrom}`, message: 'The file is rewritten in the current format when you save it.' });
    }
    try { localStorage.setItem('workbench.lastPath', r.path); } catch { /* storage may be off */ }
    return true;
  } catch (err) {
    s.showBanner({ id: 'doc-open-failed', tone: 'error', title: `Could not open ${path}`, message: errorMessage(err) });
    return false;
  } finally {
    s.setBusy(null);
  }
}

/** Reads the document's file again, dropping the edits made here (after asking, when there are some). */
export async function reopenFromDisk(): Promise<boolean> {
  const path = store.getState().path;
  if (!path || !confirmDiscard('Reopen it from disk')) return false;
  return openExperiment(path);
}

export async function newFromTemplate(template: string): Promise<void> {
  const s = store.getState();
  try {
    const r = await getApi().call('experiments.create', { template });
    adopt(r.doc as ExperimentInput, null, null);
  } catch (err) {
    s.showBanner({ id: 'doc-new-failed', tone: 'error', title: 'Could not create the experiment', message: errorMessage(err) });
  }
}

/** Checks the document as the host will; a message per problem, or null. */
export function localProblems(doc: ExperimentInput): string | null {
  const r = parseExperiment(serialize(doc));
  return r.ok ? null : r.error;
}

let saving: Promise<boolean> | null = null;

/** The host's answer to a save whose expectedMtimeMs no longer matches: someone else wrote the file. */
function isSaveConflict(err: unknown): boolean {
  const e = err as { code?: unknown; path?: unknown } | null;
  return e?.code === 'BUSY' && Array.isArray(e.path) && e.path.includes('expectedMtimeMs');
}

function showConflict(target: string): void {
  store.getState().showBanner({
    id: 'doc-save-failed', tone: 'error', title: `Not saved: ${fileName(target)} changed on disk`,
    message: `Another program or window wrote ${target} after it was opened here. Reopen it from disk to see those changes (your edits here are discarded), or overwrite it with this version.`,
    actions: [{ label: 'Reopen from disk', command: 'experiment.reopen' }, { label: 'Overwrite', command: 'experiment.overwrite', primary: true }],
  });
}

/**
 * Saves to `path` (default: the document's own); false, with a banner, when the host refuses. A save over
 * the document's own file checks that nobody wrote it since it was opened, unless `overwrite` says to
 * replace what is there (the host still writes only over a file that is an experiment).
 */
export async function saveExperiment(path?: string, { overwrite = false }: { overwrite?: boolean } = {}): Promise<boolean> {
  if (saving) await saving.catch(() => false);
  const s = store.getState();
  const doc = s.doc;
  const target = path ?? s.path;
  if (!doc) return false;
  if (!target) { s.setOpenDialog('save'); return false; }
  const problems = localProblems(doc);
  if (problems) {
    s.showBanner({ id: 'doc-save-failed', tone: 'error', title: 'Not saved: the experiment has invalid cells', message: problems });
    return false;
  }
  const expectedMtimeMs = !overwrite && target === s.path && s.mtimeMs !== null ? s.mtimeMs : undefined;
  saving = (async () => {
    try {
      const r = await getApi().call('experiments.save', { path: target, doc: serialize(doc) as Record<string, unknown>, ...(expectedMtimeMs !== undefined ? { expectedMtimeMs } : {}) });
      const before = store.getState().path;
      store.getState().markSaved(r.path, r.mtimeMs, doc);
      store.getState().dismissBanner('doc-save-failed');
      if (before !== r.path) void refreshHistory();
      return true;
    } catch (err) {
      if (isSaveConflict(err)) showConflict(target);
      else store.getState().showBanner({ id: 'doc-save-failed', tone: 'error', title: `Could not save ${target}`, message: errorMessage(err) });
      return false;
    }
  })();
  try { return await saving; } finally { saving = null; }
}

const AUTOSAVE_MS = 1500;

let stateWrites: Promise<void> = Promise.resolve();

/**
 * Writes what is kept beside the saved experiment (previews, overlay choices) when it changed: at once,
 * one write after another (they are rare: a preview, a tick), the newest state last.
 */
function persistState(): void {
  stateWrites = stateWrites.then(async () => {
    const s = store.getState();
    if (!s.path || !s.doc) return;
    const state = workbenchStateOf(s);
    const json = JSON.stringify(state);
    if (stateOnDisk?.path === s.path && stateOnDisk.json === json) return;
    try {
      await getApi().call('experiments.saveState', { path: s.path, state });
      stateOnDisk = { path: s.path, json };
    } catch (err) {
      // a cache and UI choices: the experiment itself is safe, so a warning, not a blocked save
      store.getState().showBanner({ id: 'doc-state', tone: 'warning', title: 'Could not keep the previews and run choices beside the file', message: errorMessage(err) });
    }
  });
}

/**
 * Saves a document that has a path a moment after the last edit, unless it is invalid or the last save
 * failed; and keeps what belongs beside it (previews, overlay choices) as they change.
 */
export function startAutosave(): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const unsubState = store.subscribe((s, prev) => {
    // a document saved under a new name takes its state along
    if (s.savedPreviews !== prev.savedPreviews || s.runOverlay !== prev.runOverlay || (s.path !== prev.path && s.doc === prev.doc)) persistState();
  });
  const unsub = store.subscribe((s, prev) => {
    if (s.doc === prev.doc) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      const now = store.getState();
      if (!now.path || !isDirty(now) || now.banners.some((b) => b.id === 'doc-save-failed')) return;
      if (Object.keys(now.jsonErrors).length || localProblems(now.doc!)) return;
      void saveExperiment();
    }, AUTOSAVE_MS);
  });
  const beforeUnload = (e: BeforeUnloadEvent) => {
    if (!isDirty(store.getState())) return;
    e.preventDefault();
    e.returnValue = '';
  };
  window.addEventListener('beforeunload', beforeUnload);
  return () => { unsub(); unsubState(); if (timer) clearTimeout(timer); window.removeEventListener('beforeunload', beforeUnload); };
}
