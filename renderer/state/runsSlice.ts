import type { StateCreator } from 'zustand';
import type { z } from 'zod';
import type { PayloadOf, RunListEntry } from '../../common/workbenchApi';
import type { RunEvent } from '../../common/runEvents';
import type { Diagnostic } from '../../common/runEvents';
import type { Store } from './store';

export type RunListItem = z.infer<typeof RunListEntry>;

/**
 * A run the engine trains for a pretrain cell, at the rate a person reads: status, step, latest losses.
 * It is known by its run id from the start (the host picks it; the engine's job carries it too). Every
 * step's scalars go to renderer/dashboards' buffer, not here.
 */
export interface Job {
  runId: string;
  /** '' while unknown: a run another window started, until the cell that lists it is found */
  cellId: string;
  status: string;
  step: number;
  totalSteps: number | null;
  trainLoss: number | null;
  valLoss: number | null;
  etaSeconds: number | null;
  progress: { phase: string; done: number; total: number } | null;
  diagnostics: Diagnostic[];
  /** hash of the configs it was started from (lib/cellConfig runConfigHash) */
  configHash: string | null;
  ended: 'done' | 'failed' | 'cancelled' | null;
  error: string | null;
}

/** a job's end as the host reports it, less the experiment (the session checks that it is this one) */
export type JobEnd = Omit<PayloadOf<'onJobEnded'>, 'experimentPath'>;

export interface RunsSlice {
  /** by run id: a run's latest job (a resumed run's new job replaces its ended one) */
  jobs: Record<string, Job>;
  /** the experiment's run folders (runs.list), newest first */
  history: RunListItem[];
  historyError: string | null;

  jobStarted(runId: string, cellId: string, configHash: string | null): void;
  applyRunEvents(runId: string, events: RunEvent[]): void;
  /** ties a run another window started to the cell that lists it */
  assignJob(runId: string, cellId: string): void;
  jobEnded(p: JobEnd): void;
  setHistory(history: RunListItem[], error?: string | null): void;
}

const blankJob = (runId: string, cellId: string, configHash: string | null): Job => ({
  runId, cellId, status: 'starting', step: 0, totalSteps: null, trainLoss: null, valLoss: null,
  etaSeconds: null, progress: null, diagnostics: [], configHash, ended: null, error: null,
});

function reduce(job: Job, e: RunEvent): Job {
  switch (e.type) {
    case 'status': return { ...job, status: e.status };
    case 'progress': return { ...job, progress: { phase: e.phase, done: e.done, total: e.total } };
    case 'step': return { ...job, progress: null, step: e.step, totalSteps: e.totalSteps, etaSeconds: e.etaSeconds, trainLoss: e.scalars['train/loss'] ?? job.trainLoss };
    case 'eval': return { ...job, valLoss: e.val.loss };
    case 'diagnostic': return { ...job, diagnostics: [...job.diagnostics, e.diagnostic].slice(-20) };
    default: return job;
  }
}

export const createRunsSlice: StateCreator<Store, [], [], RunsSlice> = (set, get) => ({
  jobs: {},
  history: [],
  historyError: null,

  jobStarted(runId, cellId, configHash) {
    const job = get().jobs[runId];
    // its first events may have come before the host's answer: they stay
    const next = job && job.ended === null ? { ...job, cellId, configHash } : blankJob(runId, cellId, configHash);
    set({ jobs: { ...get().jobs, [runId]: next } });
  },

  applyRunEvents(runId, events) {
    const job = get().jobs[runId];
    // a run resumed starts a new job; a run another window started has no cell yet (assignJob)
    const fresh = !job || (job.ended !== null && events.some((e) => e.type === 'status' && (e.status === 'preparing' || e.status === 'running')));
    const next = events.reduce(reduce, fresh ? blankJob(runId, job?.cellId ?? '', job?.configHash ?? null) : job);
    set({ jobs: { ...get().jobs, [runId]: next } });
  },

  assignJob(runId, cellId) {
    const job = get().jobs[runId];
    if (job && job.cellId !== cellId) set({ jobs: { ...get().jobs, [runId]: { ...job, cellId } } });
  },

  jobEnded(p) {
    const job = get().jobs[p.runId];
    if (!job) return;
    const s = p.summary;
    set({
      jobs: {
        ...get().jobs,
        [p.runId]: {
          ...job,
          ended: p.outcome,
          status: s?.status ?? (p.outcome === 'done' ? 'completed' : p.outcome === 'cancelled' ? 'cancelled' : 'failed'),
          step: s?.steps ?? job.step,
          trainLoss: s?.final_train_loss ?? job.trainLoss,
          valLoss: s?.final_val_loss ?? job.valLoss,
          error: p.error?.message ?? null,
          progress: null,
        },
      },
    });
  },

  setHistory(history, error = null) {
    set({ history, historyError: error });
  },
});
