import type { StateCreator } from 'zustand';
import type { BundleExportResult } from '../../common/bundle';
import type { ServeStarted } from '../../common/serveApi';
import type { Store } from './store';

/**
 * What the buttons of a run in the runs table are doing for it, by run id: its inference server (Serve)
 * and its bundle (Export). Absent: nothing yet, or dismissed.
 */
export type ServeState = { phase: 'starting' } | { phase: 'serving'; info: ServeStarted } | { phase: 'failed'; message: string };
export type ExportState = { phase: 'exporting' } | { phase: 'done'; result: BundleExportResult } | { phase: 'failed'; message: string };

export interface RunActionsSlice {
  serving: Record<string, ServeState>;
  exporting: Record<string, ExportState>;
  setServe(runId: string, state: ServeState | null): void;
  setExport(runId: string, state: ExportState | null): void;
}

/** `record` with `key` set to `value`, or without it for null. */
function withKey<T>(record: Record<string, T>, key: string, value: T | null): Record<string, T> {
  const { [key]: _gone, ...rest } = record;
  return value ? { ...rest, [key]: value } : rest;
}

export const createRunActionsSlice: StateCreator<Store, [], [], RunActionsSlice> = (set) => ({
  serving: {},
  exporting: {},
  setServe: (runId, state) => set((s) => ({ serving: withKey(s.serving, runId, state) })),
  setExport: (runId, state) => set((s) => ({ exporting: withKey(s.exporting, runId, state) })),
});
