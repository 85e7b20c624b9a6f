import type { StateCreator } from 'zustand';
import type { ServeStarted } from '../../common/serveApi';
import type { Store } from './store';

/** A run's inference server as the Serve button knows it. */
export type ServeState = { phase: 'starting' } | { phase: 'serving'; info: ServeStarted } | { phase: 'failed'; message: string };

export interface ServeSlice {
  /** by run id; absent: not served */
  serving: Record<string, ServeState>;
  setServe(runId: string, state: ServeState | null): void;
}

export const createServeSlice: StateCreator<Store, [], [], ServeSlice> = (set) => ({
  serving: {},
  setServe: (runId, state) => set((s) => {
    const { [runId]: _gone, ...rest } = s.serving;
    return { serving: state ? { ...rest, [runId]: state } : rest };
  }),
});
