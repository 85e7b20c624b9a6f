import type { StateCreator } from 'zustand';
import type { ExperimentInput } from '../../common/experiment';
import type { CellInput } from '../lib/cellConfig';
import type { Store } from './store';

/** Edits to the same place within this window become one undo step (typing a number, dragging a slider). */
const COALESCE_MS = 800;
const HISTORY_LIMIT = 200;

export interface DocumentSlice {
  doc: ExperimentInput | null;
  /** where the document lives; null for a new, never-saved one */
  path: string | null;
  /** the file's mtime when we last read or wrote it: the host refuses a save over someone else's write */
  mtimeMs: number | null;
  /** the document as last saved or opened; dirty is `doc !== savedDoc` */
  savedDoc: ExperimentInput | null;
  past: ExperimentInput[];
  future: ExperimentInput[];
  lastEdit: { key: string; at: number } | null;

  loadDocument(doc: ExperimentInput, path: string | null, mtimeMs: number | null): void;
  markSaved(path: string, mtimeMs: number, saved: ExperimentInput): void;
  /** A user's edit: recorded for undo; edits with the same `coalesceKey` in quick succession merge. */
  editDocument(recipe: (doc: ExperimentInput) => ExperimentInput, coalesceKey?: string): void;
  /** Results written back (run references): not an undo step, and kept when the user undoes an edit. */
  recordOutput(recipe: (doc: ExperimentInput) => ExperimentInput): void;
  undo(): void;
  redo(): void;
}

export const updateCell = (doc: ExperimentInput, id: string, f: (c: CellInput) => CellInput): ExperimentInput =>
  ({ ...doc, cells: doc.cells.map((c) => (c.id === id ? f(c) : c)) });

/**
 * Carries the cells' outputs (run references) of the current document over into a snapshot being
 * restored by undo/redo: undo takes back edits, not what running produced.
 */
function keepOutputs(target: ExperimentInput, current: ExperimentInput): ExperimentInput {
  const now = new Map(current.cells.map((c) => [c.id, c] as const));
  return {
    ...target,
    cells: target.cells.map((c) => {
      const cur = now.get(c.id);
      if (c.kind === 'pretrain' && cur?.kind === 'pretrain') return { ...c, runs: cur.runs };
      return c;
    }),
  };
}

export const createDocumentSlice: StateCreator<Store, [], [], DocumentSlice> = (set, get) => ({
  doc: null,
  path: null,
  mtimeMs: null,
  savedDoc: null,
  past: [],
  future: [],
  lastEdit: null,

  loadDocument(doc, path, mtimeMs) {
    set({ doc, path, mtimeMs, savedDoc: doc, past: [], future: [], lastEdit: null });
  },

  markSaved(path, mtimeMs, saved) {
    set({ path, mtimeMs, savedDoc: saved });
  },

  editDocument(recipe, coalesceKey) {
    const { doc, past, lastEdit } = get();
    if (!doc) return;
    const next = recipe(doc);
    if (next === doc) return;
    const now = Date.now();
    const merge = coalesceKey !== undefined && lastEdit?.key === coalesceKey && now - lastEdit.at < COALESCE_MS;
    set({
      doc: next,
      past: merge ? past : [...past, doc].slice(-HISTORY_LIMIT),
      future: [],
      lastEdit: coalesceKey !== undefined ? { key: coalesceKey, at: now } : null,
    });
  },

  recordOutput(recipe) {
    const { doc } = get();
    if (doc) set({ doc: recipe(doc) });
  },

  undo() {
    const { doc, past, future } = get();
    if (!doc || !past.length) return;
    set({ doc: keepOutputs(past[past.length - 1], doc), past: past.slice(0, -1), future: [doc, ...future], lastEdit: null });
  },

  redo() {
    const { doc, past, future } = get();
    if (!doc || !future.length) return;
    set({ doc: keepOutputs(future[0], doc), past: [...past, doc], future: future.slice(1), lastEdit: null });
  },
});
