/** What a job is to the server: a handler per job kind, run with a context that reports and cancels. */
import type { BackendInfo, BackendRequest } from '../../common/backends';
import type { JobKind, JobResultOf, JobSpecOf } from '../../common/protocol';
import type { RunEvent } from '../../common/runEvents';

export interface JobContext {
  readonly jobId: string;
  /** aborted by `job.cancel` or shutdown; long jobs look at it between steps through checkpoint() */
  readonly signal: AbortSignal;
  /** the backend a device job computes on; null for jobs that compute nothing */
  readonly backend: BackendInfo | null;
  progress(step: number, total: number, extra?: { message?: string; metrics?: Record<string, number> }): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  /** a pretraining run's events, as one onRunEvents message (the job batches them) */
  runEvents(events: RunEvent[]): void;
  /** registers what `job.control` does for this job; jobs that register nothing refuse it */
  onControl(handler: (action: 'pause' | 'resume') => void): void;
  /**
   * Call between steps: lets waiting messages (a `job.cancel`) be handled — TensorFlow.js's CPU kernels
   * never yield on their own — then throws JOB_CANCELLED if the job was cancelled.
   */
  checkpoint(): Promise<void>;
}

export interface JobHandler<K extends JobKind> {
  /**
   * Whether it computes with TensorFlow.js. The backend is process-wide, so such jobs run one at a time
   * (a second gets BUSY); jobs that only read configs run beside them.
   */
  readonly usesDevice: boolean;
  /** the backend the spec asks for; undefined keeps the current one (or picks 'auto' if none yet) */
  backendOf?(spec: JobSpecOf<K>): BackendRequest | undefined;
  run(spec: JobSpecOf<K>, ctx: JobContext): Promise<JobResultOf<K>>;
}

export type JobHandlers = { readonly [K in JobKind]: JobHandler<K> };
