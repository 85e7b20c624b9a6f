import { create } from 'zustand';
import { type DocumentSlice, createDocumentSlice } from './documentSlice';
import { type RunsSlice, createRunsSlice } from './runsSlice';
import { type RunActionsSlice, createRunActionsSlice } from './runActionsSlice';
import { type UiSlice, createUiSlice } from './uiSlice';

/**
 * The one store of the renderer: the document being edited (with its undo history), the runs of its
 * pretrain cells at a human rate, and the UI's own state. Components read it through the selectors of
 * ./selectors (useShallow where they derive objects); commands change it through its actions.
 * Per-step metrics are not here: renderer/dashboards buffers them outside React.
 */
export type Store = DocumentSlice & RunsSlice & UiSlice & RunActionsSlice;

export const useStore = create<Store>()((...a) => ({
  ...createDocumentSlice(...a),
  ...createRunsSlice(...a),
  ...createUiSlice(...a),
  ...createRunActionsSlice(...a),
}));

export type { DocumentSlice, RunsSlice, UiSlice, RunActionsSlice };
