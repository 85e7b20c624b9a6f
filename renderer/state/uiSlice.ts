import type { StateCreator } from 'zustand';
import type { DatasetPreview, EngineStatus } from '../../common/workbenchApi';
import type { DatasetCellSummary, WorkbenchState } from '../../common/workbenchState';
import { cellOfRun, overlaidRunIds, withRunOverlaid } from './runSelection';
import type { Store } from './store';

/** A way out a banner offers: a registered command, run by id (so a banner stays plain data). */
export interface BannerAction {
  label: string;
  command: string;
  primary?: boolean;
}

export interface Banner {
  id: string;
  tone: 'info' | 'warning' | 'error';
  title: string;
  message?: string;
  actions?: BannerAction[];
}

export interface PreviewState {
  loading: boolean;
  result: DatasetPreview | null;
  error: string | null;
  /** hash of the config it was made from: a different current hash marks it stale */
  configHash: string | null;
}

export interface UiSlice {
  selectedCellId: string | null;
  collapsed: Record<string, boolean>;
  banners: Banner[];
  engine: EngineStatus | null;
  /** cells whose JSON editor holds text that does not parse: the document keeps the last good value */
  jsonErrors: Record<string, string>;
  previews: Record<string, PreviewState>;
  /**
   * per dataset cell, the summary of its last preview (this session's, or one kept beside the file from an
   * earlier one): what the cell shows when this session has not previewed, and where the model cell takes
   * its vocabulary from
   */
  savedPreviews: Record<string, DatasetCellSummary>;
  /** the run picked in a runs list (the cell's runs table, the sidebar): its row is marked, its heatmap shown */
  selectedRunId: string | null;
  /**
   * per pretrain cell, the runs the user put on (true) or took off (false) its dashboard, by run id;
   * read them through selectors' overlaidRunIds, which fills in the defaults
   */
  runOverlay: Record<string, Record<string, boolean>>;
  /** the experiments dialog, and what it is for: its path field's Enter opens, or saves there */
  openDialog: false | 'open' | 'save';
  busy: string | null;
  /** the notes cell whose markdown is being written (others render) */
  editingNotes: string | null;

  selectCell(id: string | null): void;
  setCollapsed(id: string, collapsed: boolean): void;
  resetCollapsed(collapsed: Record<string, boolean>): void;
  showBanner(b: Omit<Banner, 'id'> & { id?: string }): void;
  dismissBanner(id: string): void;
  setEngine(s: EngineStatus): void;
  setJsonError(cellId: string, error: string | null): void;
  setPreview(cellId: string, p: Partial<PreviewState>): void;
  setSavedPreview(cellId: string, summary: DatasetCellSummary): void;
  /** what was kept beside an experiment file (its previews and overlay choices), for the document just opened */
  loadWorkbenchState(state: Pick<WorkbenchState, 'previews' | 'overlay'>): void;
  /** picks a run; a run not on its cell's dashboard is put on it */
  selectRun(runId: string | null): void;
  /** puts a run of a pretrain cell on its dashboard, or takes it off */
  setRunOverlaid(cellId: string, runId: string, shown: boolean): void;
  setOpenDialog(open: false | 'open' | 'save'): void;
  setBusy(what: string | null): void;
  setEditingNotes(id: string | null): void;
}

let bannerSeq = 0;

export const createUiSlice: StateCreator<Store, [], [], UiSlice> = (set, get) => ({
  selectedCellId: null,
  collapsed: {},
  banners: [],
  engine: null,
  jsonErrors: {},
  previews: {},
  savedPreviews: {},
  selectedRunId: null,
  runOverlay: {},
  openDialog: false,
  busy: null,
  editingNotes: null,

  selectCell: (id) => set({ selectedCellId: id }),
  setCollapsed: (id, collapsed) => set({ collapsed: { ...get().collapsed, [id]: collapsed } }),
  resetCollapsed: (collapsed) => set({ collapsed }),
  showBanner(b) {
    const id = b.id ?? `banner-${++bannerSeq}`;
    set({ banners: [...get().banners.filter((x) => x.id !== id), { ...b, id }] });
  },
  dismissBanner: (id) => set({ banners: get().banners.filter((b) => b.id !== id) }),
  setEngine: (engine) => set({ engine }),
  setJsonError(cellId, error) {
    const { [cellId]: _old, ...rest } = get().jsonErrors;
    set({ jsonErrors: error === null ? rest : { ...rest, [cellId]: error } });
  },
  setPreview(cellId, p) {
    const old = get().previews[cellId] ?? { loading: false, result: null, error: null, configHash: null };
    set({ previews: { ...get().previews, [cellId]: { ...old, ...p } } });
  },
  setSavedPreview: (cellId, summary) => set({ savedPreviews: { ...get().savedPreviews, [cellId]: summary } }),
  loadWorkbenchState: (state) => set({ savedPreviews: state.previews, runOverlay: state.overlay, previews: {} }),
  selectRun(runId) {
    set({ selectedRunId: runId });
    const s = get();
    const cellId = runId ? cellOfRun(s, runId) : undefined;
    if (runId && cellId && !overlaidRunIds(s, cellId).includes(runId)) s.setRunOverlaid(cellId, runId, true);
  },
  setRunOverlaid(cellId, runId, shown) {
    const s = get();
    set({ runOverlay: { ...s.runOverlay, [cellId]: withRunOverlaid(s, cellId, runId, shown) } });
  },
  setOpenDialog: (openDialog) => set({ openDialog }),
  setBusy: (busy) => set({ busy }),
  setEditingNotes: (editingNotes) => set({ editingNotes }),
});
