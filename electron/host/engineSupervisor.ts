/**
 * The engine process, kept alive for the host: started by path (a `child_process.fork` of engine/main.ts
 * under tsx, or Electron's `utilityProcess.fork` through the same small interface), greeted (onReady, then
 * `hello`), watched, and restarted.
 *
 * States (common/workbenchApi.ts EngineStatus): stopped → starting → ready ⇄ busy (a device job runs);
 * an exit nobody asked for → crashed, with the reason in words in `lastExit`. Every job still running
 * then ends for its listeners as failed ("the engine stopped while this job ran"); the run folders keep
 * what the engine wrote (its checkpoints are crash-safe), so the run can be resumed.
 *
 * Restart policy: after a crash the engine is started again once on its own, after `restartBackoffMs`
 * (1 s), so a training run killed by the system does not leave the app without an engine. If that engine
 * crashes again within `stableMs` (60 s) of the automatic restart, it stays crashed until someone asks (`restart()`,
 * WorkbenchApi's engine.restart): an engine that dies at start must not be restarted in a loop.
 * Nothing here throws or rejects unhandled when the engine dies in the middle of a message.
 */
import { fork as forkProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EngineClient } from '../../common/engineClient';
import { EngineError } from '../../common/errors';
import { DEVICE_JOB_KINDS, type EngineEvent, type JobKind, type ResultOf } from '../../common/protocol';
import type { EngineStatus } from '../../common/workbenchApi';

/** engine/main.ts, by path: electron/ never imports engine code */
export const ENGINE_ENTRY = fileURLToPath(new URL('../../engine/main.ts', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What the supervisor needs of a started engine process; child_process and utilityProcess both fit. */
export interface EngineChild {
  readonly pid: number | undefined;
  /** may throw when the process is gone: the supervisor catches it */
  send(message: unknown): void;
  onMessage(listener: (raw: unknown) => void): void;
  /** once, when the process has exited; `signal` null for a plain exit code */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
  /** the last lines the engine wrote to stderr, for the crash message; optional */
  stderrTail?(): string;
}

export type ForkEngine = (entry: string) => EngineChild;

/** child_process.fork of the engine under tsx: what tests and browser mode use. */
export function nodeForkEngine(opts: { env?: NodeJS.ProcessEnv; cwd?: string; execArgv?: string[] } = {}): ForkEngine {
  return (entry) => {
    const child = forkProcess(entry, [], {
      cwd: opts.cwd ?? REPO_ROOT,
      execArgv: opts.execArgv ?? ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env: { ...process.env, ...opts.env },
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000);
      process.stderr.write(chunk);
    });
    // a send to a process that just died reports here (EPIPE, ERR_IPC_CHANNEL_CLOSED): the exit handler deals with it
    child.on('error', () => undefined);
    return {
      get pid() { return child.pid; },
      send(message) {
        if (!child.connected) throw new EngineError('INTERNAL', 'the engine is not running');
        child.send(message as object, (err) => { void err; });
      },
      onMessage(listener) { child.on('message', listener); },
      onExit(listener) {
        if (child.exitCode !== null || child.signalCode !== null) { queueMicrotask(() => listener(child.exitCode, child.signalCode)); return; }
        child.once('exit', (code, signal) => listener(code, signal));
      },
      kill() { child.kill('SIGKILL'); },
      stderrTail: () => stderr,
    };
  };
}

/**
 * Electron's UtilityProcess, described by the little used here so that this module loads without Electron:
 * `utilityProcessEngine((entry) => utilityProcess.fork(entry, [], { execArgv: ['--import', 'tsx'], stdio: 'pipe' }))`.
 */
export interface UtilityProcessLike {
  readonly pid: number | undefined;
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  once(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
  stderr?: NodeJS.ReadableStream | null;
}

export function utilityProcessEngine(start: (entry: string) => UtilityProcessLike): ForkEngine {
  return (entry) => {
    const up = start(entry);
    let stderr = '';
    up.stderr?.on('data', (chunk: Buffer | string) => { stderr = (stderr + String(chunk)).slice(-8000); });
    let exited = false;
    up.once('exit', () => { exited = true; });
    return {
      get pid() { return up.pid; },
      send(message) {
        if (exited) throw new EngineError('INTERNAL', 'the engine is not running');
        up.postMessage(message);
      },
      onMessage(listener) { up.on('message', listener); },
      onExit(listener) { up.once('exit', (code) => listener(code, null)); },
      kill() { up.kill(); },
      stderrTail: () => stderr,
    };
  };
}


export interface EngineSupervisorOptions {
  fork?: ForkEngine;
  entry?: string;
  /** default 1000 ms */
  restartBackoffMs?: number;
  /** an engine up this long before it crashes is restarted on its own again; default 60 000 ms */
  stableMs?: number;
  /** how long start waits for onReady + hello; default 60 000 ms */
  startTimeoutMs?: number;
}

/** A job the engine was running when it died, as the host last knew it. */
export interface LostJob { jobId: string; kind: JobKind }

export type SupervisorListener =
  | { type: 'status'; status: EngineStatus }
  | { type: 'event'; event: EngineEvent }
  /**
   * The engine process ended (after the host asked, when `intentional`): every job it ran is over, whether
   * or not it said so; `jobs` are those it had started and not ended.
   */
  | { type: 'exited'; intentional: boolean; reason: string; jobs: LostJob[] };

interface Incarnation {
  child: EngineChild;
  client: EngineClient;
  /** set when the host itself ends it (stop / restart): its exit is not a crash */
  intentional: boolean;
  exited: boolean;
}

export function describeExit(code: number | null, signal: string | null): string {
  if (signal === 'SIGKILL') return 'the engine was killed (SIGKILL): by the system when memory ran out, or by another program';
  if (signal) return `the engine was stopped by signal ${signal}`;
  if (code === 0) return 'the engine exited on its own (code 0)';
  if (code === null) return 'the engine exited for an unknown reason';
  return `the engine exited with code ${code}`;
}

export class EngineSupervisor {
  private readonly fork: ForkEngine;
  private readonly entry: string;
  private readonly restartBackoffMs: number;
  private readonly stableMs: number;
  private readonly startTimeoutMs: number;
  private current: Incarnation | null = null;
  /** settles when the engine being started is ready (or failed to be) */
  private starting: Promise<EngineClient> | null = null;
  private status: EngineStatus = { state: 'stopped', pid: null, backend: null, lastExit: null, restarts: 0 };
  private readonly jobs = new Map<string, JobKind>();
  private readonly listeners = new Set<(e: SupervisorListener) => void>();
  private autoRestartTimer: NodeJS.Timeout | null = null;
  private lastAutoRestartAt = -Infinity;
  private disposed = false;

  constructor(opts: EngineSupervisorOptions = {}) {
    this.fork = opts.fork ?? nodeForkEngine();
    this.entry = opts.entry ?? ENGINE_ENTRY;
    this.restartBackoffMs = opts.restartBackoffMs ?? 1000;
    this.stableMs = opts.stableMs ?? 60_000;
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  }

  getStatus(): EngineStatus {
    return { ...this.status };
  }

  /** status changes, every valid engine event, and jobs lost to a crash */
  on(listener: (e: SupervisorListener) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: SupervisorListener): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch { /* a listener's bug must not stop the others or the supervisor */ }
    }
  }

  private setStatus(patch: Partial<EngineStatus>): void {
    this.status = { ...this.status, ...patch };
    this.emit({ type: 'status', status: this.getStatus() });
  }

  private runningState(): 'ready' | 'busy' {
    return [...this.jobs.values()].some((k) => DEVICE_JOB_KINDS.has(k)) ? 'busy' : 'ready';
  }

  /** Starts the engine when none runs; resolves with its client once it has said hello. */
  start(): Promise<EngineClient> {
    if (this.disposed) return Promise.reject(new EngineError('INTERNAL', 'the host is shutting down'));
    if (this.starting) return this.starting;
    if (this.current && !this.current.exited) return Promise.resolve(this.current.client);
    this.starting = this.launch().finally(() => { this.starting = null; });
    return this.starting;
  }

  private async launch(): Promise<EngineClient> {
    if (this.autoRestartTimer) { clearTimeout(this.autoRestartTimer); this.autoRestartTimer = null; }
    if (this.status.state !== 'restarting') this.setStatus({ state: 'starting', pid: null });
    let child: EngineChild;
    try {
      child = this.fork(this.entry);
    } catch (err) {
      this.setStatus({ state: 'crashed', pid: null, lastExit: `the engine could not be started: ${(err as Error).message}` });
      throw new EngineError('INTERNAL', `the engine could not be started: ${(err as Error).message}`);
    }
    const client = new EngineClient({
      send: (message) => child.send(message),
      onMessage: (listener) => {
        let on = true;
        child.onMessage((raw) => { if (on) listener(raw); });
        return () => { on = false; };
      },
    }, 'h');
    const inc: Incarnation = { child, client, intentional: false, exited: false };
    this.current = inc;
    client.onEvent((event) => this.onEngineEvent(inc, event));
    // A message the host cannot read is an engine bug; when it ends a job, the job's caller must not wait
    // for an end that will never come: the job fails, saying why.
    client.onProtocolError((error, raw) => {
      const r = raw as { type?: unknown; jobId?: unknown } | null;
      const ended = r?.type === 'onJobDone' || r?.type === 'onJobFailed' || r?.type === 'onJobCancelled';
      if (!ended || typeof r?.jobId !== 'string' || !this.jobs.has(r.jobId)) return;
      this.onEngineEvent(inc, { type: 'onJobFailed', jobId: r.jobId, error: { code: 'INTERNAL', message: `the engine ended the job with a message the host could not read (${error.message})` } });
    });
    let exitedEarly!: (reason: string) => void;
    const died = new Promise<never>((_, reject) => {
      exitedEarly = (reason) => reject(new EngineError('INTERNAL', reason));
    });
    died.catch(() => undefined);
    child.onExit((code, signal) => {
      inc.exited = true;
      // the engine's last words on stderr usually say why (an exception, a missing package)
      const tail = child.stderrTail?.().trim().split('\n').slice(-3).join('\n');
      const reason = tail ? `${describeExit(code, signal)}; it last wrote: ${tail}` : describeExit(code, signal);
      client.close(new EngineError('INTERNAL', `${reason}; the request was not answered`));
      exitedEarly(reason);
      this.onExit(inc, reason);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineError('INTERNAL', `the engine did not become ready within ${this.startTimeoutMs} ms`)), this.startTimeoutMs);
    });
    try {
      const hello = await Promise.race([client.ready.then(() => client.hello()), died, timeout]);
      this.setStatus({ state: this.runningState(), pid: child.pid ?? null, backend: hello.backend });
      return client;
    } catch (err) {
      if (!inc.exited) {
        inc.intentional = true;
        child.kill();
      }
      this.setStatus({ state: 'crashed', pid: null, lastExit: `the engine failed to start: ${(err as Error).message}` });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private onEngineEvent(inc: Incarnation, event: EngineEvent): void {
    if (inc !== this.current) return;
    if (event.type === 'onJobStarted') {
      this.jobs.set(event.jobId, event.kind);
      if (event.backend) this.status = { ...this.status, backend: event.backend };
      if (this.status.state === 'ready' || this.status.state === 'busy') this.setStatus({ state: this.runningState() });
    } else if (event.type === 'onJobDone' || event.type === 'onJobFailed' || event.type === 'onJobCancelled') {
      this.jobs.delete(event.jobId);
      if (this.status.state === 'ready' || this.status.state === 'busy') this.setStatus({ state: this.runningState() });
    }
    this.emit({ type: 'event', event });
  }

  private onExit(inc: Incarnation, reason: string): void {
    if (inc !== this.current) return;
    const lost = [...this.jobs.entries()].map(([jobId, kind]) => ({ jobId, kind }));
    this.jobs.clear();
    if (inc.intentional || this.disposed) {
      if (this.status.state !== 'restarting' && this.status.state !== 'crashed') this.setStatus({ state: 'stopped', pid: null });
      this.emit({ type: 'exited', intentional: true, reason: 'the engine was stopped (restart or shutdown)', jobs: lost });
      return;
    }
    this.setStatus({ state: 'crashed', pid: null, lastExit: reason });
    this.emit({ type: 'exited', intentional: false, reason, jobs: lost });
    // once per stableMs: a second crash soon after an automatic restart waits for the user
    if (Date.now() - this.lastAutoRestartAt >= this.stableMs) {
      this.autoRestartTimer = setTimeout(() => {
        this.autoRestartTimer = null;
        if (this.disposed || this.status.state !== 'crashed') return;
        this.lastAutoRestartAt = Date.now();
        this.setStatus({ state: 'restarting', restarts: this.status.restarts + 1 });
        this.start().catch(() => undefined);
      }, this.restartBackoffMs);
      this.autoRestartTimer.unref?.();
    }
  }

  /** The engine's client, starting or waiting for the engine as needed; refused while it is crashed for good. */
  async client(): Promise<EngineClient> {
    if (this.starting) return this.starting;
    const inc = this.current;
    if (inc && !inc.exited) return inc.client;
    if (this.status.state === 'crashed' && this.autoRestartTimer) {
      // the automatic restart is due shortly: wait for it rather than fail
      return new Promise((resolve, reject) => {
        const off = this.on((e) => {
          if (e.type !== 'status') return;
          if (e.status.state === 'ready' || e.status.state === 'busy') { off(); this.client().then(resolve, reject); }
          if (e.status.state === 'crashed' || e.status.state === 'stopped') { off(); reject(new EngineError('INTERNAL', `the engine is not running: ${e.status.lastExit ?? 'stopped'}; restart it`)); }
        });
      });
    }
    if (this.status.state === 'crashed') {
      throw new EngineError('INTERNAL', `the engine is not running (${this.status.lastExit ?? 'it crashed'}); restart it (engine.restart)`);
    }
    return this.start();
  }

  /** A command to the engine; an engine that dies meanwhile rejects it with INTERNAL, never crashes the host. */
  async request<R>(fn: (client: EngineClient) => Promise<R>): Promise<R> {
    const client = await this.client();
    try {
      return await fn(client);
    } catch (err) {
      if (err instanceof EngineError) throw err;
      throw new EngineError('INTERNAL', `the engine could not be reached: ${(err as Error).message}`);
    }
  }

  /** engine.restart: stops the engine (gracefully, then by force) and starts a new one. */
  async restart(): Promise<EngineStatus> {
    if (this.autoRestartTimer) { clearTimeout(this.autoRestartTimer); this.autoRestartTimer = null; }
    if (this.starting) await this.starting.catch(() => undefined);
    this.setStatus({ state: 'restarting', restarts: this.status.restarts + 1 });
    await this.stopCurrent();
    this.setStatus({ state: 'restarting' });
    try {
      await this.start();
    } catch { /* the status says why */ }
    return this.getStatus();
  }

  private async stopCurrent(graceMs = 5000): Promise<void> {
    const inc = this.current;
    if (!inc || inc.exited) return;
    inc.intentional = true;
    const exited = new Promise<void>((resolve) => inc.child.onExit(() => resolve()));
    const timer = setTimeout(() => inc.child.kill(), graceMs);
    try {
      await Promise.race([inc.client.request({ type: 'shutdown' }), exited]);
    } catch { /* already gone */ }
    await exited;
    clearTimeout(timer);
  }

  /** Stops the engine for good (the app is closing). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.autoRestartTimer) { clearTimeout(this.autoRestartTimer); this.autoRestartTimer = null; }
    if (this.starting) await this.starting.catch(() => undefined);
    await this.stopCurrent();
    this.setStatus({ state: 'stopped', pid: null });
  }

  /** hello's result, for callers that want the engine's self-description */
  hello(): Promise<ResultOf<'hello'>> {
    return this.request((c) => c.hello());
  }
}
