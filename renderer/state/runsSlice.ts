import type { StateCreator } from 'zustand';
import type { z } from 'zod';
import type { PayloadOf, RunListEntry } from '../../common/workbenchApi';
import type { RunEvent } from '../../common/runEvents';
import type { Diagnostic } from '../../common/runEvents';
import type { Store } from './store';

export type RunListItem = z.infer<typeof RunListEntry>;

/**
 * A job the engine runs for a pretrain cell, at the rate a person reads: status, step, latest losses.
 * Every step's scalars go to renderer/dashboards' buffer, not here.
 */
export interface Job {
  jobId: string;
  cellId: string;
  runId: string | null;
  runDir: string | null;
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

export interface RunsSlice {
  jobs: Record<string, Job>;
  /** the experiment's run folders (runs.list), newest first */
  history: RunListItem[];
  historyError: string | null;

  jobStarted(jobId: string, cellId: string, configHash: string | null): void;
  applyRunEvents(jobId: string, events: RunEvent[]): void;
  /** ties a job another window started to its cell, once its run id names the cell's run */
  assignJob(jobId: string, cellId: string): void;
  jobEnded(p: PayloadOf<'onJobEnded'>): void;
  setHistory(history: RunListItem[], error?: string | null): void;
}

const blankJob = (jobId: string, cellId: string, configHash: string | null): Job => ({
  jobId, cellId, runId: null, runDir: null, status: 'starting', step: 0, totalSteps: null, trainLoss: null, valLoss: null,
  etaSeconds: null, progress: null, diagnostics: [], configHash, ended: null, error: null,
});

function reduce(job: Job, e: RunEvent): Job {
  switch (e.type) {
    case 'status': return { ...job, status: e.status, runId: e.runId, runDir: e.runDir };
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

  jobStarted(jobId, cellId, configHash) {
    set({ jobs: { ...get().jobs, [jobId]: get().jobs[jobId] ?? blankJob(jobId, cellId, configHash) } });
  },

  applyRunEvents(jobId, events) {
    const job = get().jobs[jobId];
    // a job another window started: its cell is unknown until its run folder is listed
    const next = events.reduce(reduce, job ?? blankJob(jobId, '', null));
    set({ jobs: { ...get().jobs, [jobId]: next } });
  },

  assignJob(jobId, cellId) {
    const job = get().jobs[jobId];
    if (job && job.cellId !== cellId) set({ jobs: { ...get().jobs, [jobId]: { ...job, cellId } } });
  },

  jobEnded(p) {
    const job = get().jobs[p.jobId];
    if (!job) return;
    const s = p.summary;
    set({
      jobs: {
        ...get().jobs,
        [p.jobId]: {
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
