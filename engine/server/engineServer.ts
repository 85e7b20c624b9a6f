/**
 * The engine's dispatcher: reads each incoming message, answers every command exactly once, and runs
 * jobs. It knows no transport (engine/main.ts wires it to the parent process) and no TensorFlow.js
 * beyond what `EngineRuntime` gives it, so tests drive it with plain function calls.
 *
 * Nothing a message or a job does may end the process: handle() never throws, a job's error becomes its
 * onJobFailed, and only `shutdown` (or the parent going away) stops the engine.
 */
import type { BackendInfo, BackendName, BackendRequest } from '../../common/backends';
import { EngineError, toSerializedError } from '../../common/errors';
import {
  JOB_RESULTS, PROTOCOL_VERSION, checkProtocolVersion, finiteMetrics, parseCommand,
  type Command, type CommandOf, type CommandType, type EngineEvent, type JobKind, type JobSpec, type ResultOf,
} from '../../common/protocol';
import type { JobContext, JobHandler, JobHandlers } from './job';
import { formatIssues } from '../../common/zodIssues';

/** What the server needs from the process around it; main.ts passes the real ones, tests may fake them. */
export interface EngineRuntime {
  engineVersion: string;
  selectBackend(request: BackendRequest, opts: { threads?: number }): Promise<BackendInfo>;
  availableBackends(): Promise<BackendName[]>;
  memory(): { numTensors: number; numBytes: number };
}

export interface EngineServerOptions {
  emit(event: EngineEvent): void;
  runtime: EngineRuntime;
  jobs: JobHandlers;
  /** called once the reply to `shutdown` has been emitted */
  onShutdown?(): void;
  /** how long shutdown waits for cancelled jobs to reach a step boundary */
  shutdownGraceMs?: number;
}

interface RunningJob {
  jobId: string;
  kind: JobKind;
  usesDevice: boolean;
  controller: AbortController;
  /** what job.control does, when the job offers pause / resume */
  control?: (action: 'pause' | 'resume') => void;
  /** settles when the job has sent its last event */
  ended: Promise<void>;
}

export class EngineServer {
  private backend: BackendInfo | null = null;
  /** backend changes run one after another: TensorFlow.js has one global backend */
  private backendQueue: Promise<unknown> = Promise.resolve();
  private readonly running = new Map<string, RunningJob>();
  private closing = false;

  constructor(private readonly opts: EngineServerOptions) {}

  /** Handles one message as it arrived. Never throws; every message is answered exactly once. */
  handle(raw: unknown): void {
    let command: Command;
    try {
      const parsed = parseCommand(raw);
      if (!parsed.ok) {
        this.emit({ type: 'onError', id: parsed.id, error: parsed.error });
        return;
      }
      command = parsed.value;
    } catch (err) {
      this.emit({ type: 'onError', id: null, error: toSerializedError(err) });
      return;
    }
    this.execute(command).then(
      (result) => {
        this.emit({ type: 'onReply', id: command.id, command: command.type, result } as EngineEvent);
        if (command.type === 'shutdown') this.opts.onShutdown?.();
      },
      (err: unknown) => this.emit({ type: 'onError', id: command.id, error: toSerializedError(err) }),
    );
  }

  /** An error that escaped all job code (a throw in a timer, a rejected promise nobody awaited). */
  reportUncaught(err: unknown): void {
    const error = toSerializedError(err);
    this.emit({ type: 'onError', id: null, error: { ...error, message: `uncaught in the engine (it keeps serving): ${error.message}` } });
  }

  private emit(event: EngineEvent): void {
    try {
      this.opts.emit(event);
    } catch {
      // the transport is gone; the process ends through its disconnect, not here
    }
  }

  private async execute(command: Command): Promise<ResultOf<CommandType>> {
    if (this.closing && command.type !== 'status' && command.type !== 'shutdown') {
      throw new EngineError('BUSY', 'the engine is shutting down');
    }
    switch (command.type) {
      case 'hello': return this.hello(command);
      case 'backend.select': return this.selectBackend(command);
      case 'job.start': return this.startJob(command);
      case 'job.cancel': return this.cancelJob(command);
      case 'job.control': return this.controlJob(command);
      case 'status': return this.status();
      case 'shutdown': return this.shutdown();
    }
  }

  private async hello(command: CommandOf<'hello'>): Promise<ResultOf<'hello'>> {
    const refusal = checkProtocolVersion(command.protocolVersion);
    if (refusal) throw new EngineError(refusal.code, refusal.message, refusal.path);
    return {
      engineVersion: this.opts.runtime.engineVersion,
      protocolVersion: PROTOCOL_VERSION,
      backend: await this.useBackend(undefined),
      availableBackends: await this.opts.runtime.availableBackends(),
    };
  }

  private deviceJob(): RunningJob | undefined {
    return [...this.running.values()].find((j) => j.usesDevice);
  }

  private busyError(job: RunningJob): EngineError {
    return new EngineError('BUSY', `job '${job.jobId}' (${job.kind}) is computing; wait for it to end or cancel it`);
  }

  private async selectBackend(command: CommandOf<'backend.select'>): Promise<ResultOf<'backend.select'>> {
    const busy = this.deviceJob();
    if (busy) throw this.busyError(busy);
    return this.useBackend(command.backend, { threads: command.threads }, true);
  }

  /**
   * The backend to compute on: the current one when `request` is absent or 'auto' or names it, else
   * the requested one. `force` re-selects even then (an explicit `backend.select`).
   */
  private useBackend(request: BackendRequest | undefined, opts: { threads?: number } = {}, force = false): Promise<BackendInfo> {
    const choose = async (): Promise<BackendInfo> => {
      const current = this.backend;
      if (!force && current && (request === undefined || request === 'auto' || request === current.name)) return current;
      this.backend = await this.opts.runtime.selectBackend(request ?? 'auto', opts);
      return this.backend;
    };
    const next = this.backendQueue.then(choose, choose);
    this.backendQueue = next.catch(() => undefined);
    return next;
  }

  private startJob(command: CommandOf<'job.start'>): ResultOf<'job.start'> {
    const { jobId, job: spec } = command;
    if (this.running.has(jobId)) {
      throw new EngineError('BAD_MESSAGE', `a job with id '${jobId}' is already running; give each job its own id`, ['jobId']);
    }
    const handler = this.opts.jobs[spec.kind] as JobHandler<JobKind>;
    if (handler.usesDevice) {
      const busy = this.deviceJob();
      if (busy) throw this.busyError(busy);
    }
    let ended!: () => void;
    const job: RunningJob = {
      jobId, kind: spec.kind, usesDevice: handler.usesDevice, controller: new AbortController(),
      ended: new Promise((resolve) => { ended = resolve; }),
    };
    this.running.set(jobId, job);
    // after the reply to job.start has gone out, so that the host hears "accepted" before any job event
    setImmediate(() => { void this.runJob(job, handler, spec).finally(ended); });
    return { jobId };
  }

  private async runJob(job: RunningJob, handler: JobHandler<JobKind>, spec: JobSpec): Promise<void> {
    const { jobId, kind } = job;
    const { signal } = job.controller;
    const stopIfCancelled = () => {
      if (signal.aborted) throw new EngineError('JOB_CANCELLED', `job '${jobId}' was cancelled`);
    };
    let terminal: EngineEvent;
    try {
      stopIfCancelled();
      const backend = handler.usesDevice ? await this.useBackend(handler.backendOf?.(spec as never)) : null;
      stopIfCancelled();
      this.emit({ type: 'onJobStarted', jobId, kind, backend });
      const ctx: JobContext = {
        jobId, signal, backend,
        progress: (step, total, extra = {}) => this.emit({
          type: 'onJobProgress', jobId, step, total,
          ...(extra.message !== undefined ? { message: extra.message } : {}),
          ...(extra.metrics ? { metrics: finiteMetrics(extra.metrics) } : {}),
        }),
        log: (level, message) => this.emit({ type: 'onLog', level, message, jobId }),
        runEvents: (events) => { if (events.length) this.emit({ type: 'onRunEvents', jobId, events }); },
        onControl: (handler) => { job.control = handler; },
        checkpoint: async () => {
          await new Promise((resolve) => setImmediate(resolve));
          stopIfCancelled();
        },
      };
      const result = await handler.run(spec as never, ctx);
      // a result the host would refuse is the engine's bug: report it here, where it is made
      const checked = JOB_RESULTS[kind].safeParse(result);
      if (!checked.success) throw new EngineError('INTERNAL', `job '${kind}' produced a result that breaks its schema: ${formatIssues(checked.error)}`);
      terminal = { type: 'onJobDone', jobId, kind, result: checked.data } as EngineEvent;
    } catch (err) {
      terminal = signal.aborted ? { type: 'onJobCancelled', jobId } : { type: 'onJobFailed', jobId, error: toSerializedError(err) };
    }
    // free the slot before saying so, so that a host reacting at once finds the engine idle
    this.running.delete(jobId);
    this.emit(terminal);
  }

  private cancelJob(command: CommandOf<'job.cancel'>): ResultOf<'job.cancel'> {
    const job = this.running.get(command.jobId);
    if (!job) throw new EngineError('JOB_NOT_FOUND', `no job '${command.jobId}' is running (it may have ended already)`, ['jobId']);
    job.controller.abort();
    return { jobId: job.jobId };
  }

  private controlJob(command: CommandOf<'job.control'>): ResultOf<'job.control'> {
    const job = this.running.get(command.jobId);
    if (!job) throw new EngineError('JOB_NOT_FOUND', `no job '${command.jobId}' is running (it may have ended already)`, ['jobId']);
    if (!job.control) throw new EngineError('BAD_MESSAGE', `a ${job.kind} job cannot ${command.action}; only pretraining jobs pause and resume`, ['action']);
    job.control(command.action);
    return { jobId: job.jobId, action: command.action };
  }

  private status(): ResultOf<'status'> {
    return {
      backend: this.backend,
      jobs: [...this.running.values()].map((j) => ({ jobId: j.jobId, kind: j.kind, cancelling: j.controller.signal.aborted })),
      memory: this.opts.runtime.memory(),
    };
  }

  private async shutdown(): Promise<ResultOf<'shutdown'>> {
    this.closing = true;
    const jobs = [...this.running.values()];
    for (const job of jobs) job.controller.abort();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, this.opts.shutdownGraceMs ?? 10_000).unref());
    await Promise.race([Promise.all(jobs.map((j) => j.ended)), grace]);
    return {};
  }
}
