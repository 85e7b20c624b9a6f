/**
 * The host's side of the engine protocol, independent of how messages travel (a forked process, an
 * Electron utility process, a WebSocket): give it a port and it numbers requests, matches each answer
 * to its request, checks every event against the schema and hands job events to whoever waits for them.
 */
import { EngineError } from './errors';
import {
  PROTOCOL_VERSION, checkProtocolVersion, parseEvent,
  type CommandOf, type CommandType, type EngineEvent, type EventOf, type JobEndEvent, type JobEvent, type JobSpec, type ResultOf,
} from './protocol';
import type { SerializedError } from './errors';

export interface EnginePort {
  send(message: unknown): void;
  /** every incoming message as it arrived; returns a function that unsubscribes */
  onMessage(listener: (raw: unknown) => void): () => void;
}

/** A command as the caller writes it: the client adds the request id. */
export type CommandArgs<T extends CommandType> = T extends CommandType ? Omit<CommandOf<T>, 'id'> : never;

interface Pending {
  command: CommandType;
  resolve(result: unknown): void;
  reject(err: Error): void;
}

export function toEngineError(error: SerializedError): EngineError {
  return new EngineError(error.code, error.message, error.path);
}

export class EngineClient {
  /** resolves with the engine's onReady once it has announced itself with a protocol we speak */
  readonly ready: Promise<EventOf<'onReady'>>;
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<(event: EngineEvent) => void>();
  private readonly protocolErrorListeners = new Set<(error: SerializedError, raw: unknown) => void>();
  private readonly unsubscribe: () => void;
  private closedWith: Error | null = null;

  constructor(private readonly port: EnginePort, private readonly idPrefix = 'r') {
    let readyResolve!: (e: EventOf<'onReady'>) => void;
    let readyReject!: (err: Error) => void;
    this.ready = new Promise((resolve, reject) => { readyResolve = resolve; readyReject = reject; });
    this.ready.catch(() => undefined); // a caller who never awaits it must not see an unhandled rejection
    this.onEvent((event) => {
      if (event.type !== 'onReady') return;
      const refusal = checkProtocolVersion(event.protocolVersion);
      if (refusal) readyReject(toEngineError(refusal));
      else readyResolve(event);
    });
    this.unsubscribe = port.onMessage((raw) => this.receive(raw));
  }

  /** Sends a command and resolves with its result, or rejects with the EngineError the engine answered. */
  request<T extends CommandType>(command: CommandArgs<T> & { type: T }): Promise<ResultOf<T>> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = `${this.idPrefix}${this.nextId++}`;
    return new Promise<ResultOf<T>>((resolve, reject) => {
      this.pending.set(id, { command: command.type, resolve: resolve as (r: unknown) => void, reject });
      this.port.send({ ...command, id });
    });
  }

  /** The handshake: sends `hello` with our protocol version and returns what the engine says about itself. */
  hello(): Promise<ResultOf<'hello'>> {
    return this.request({ type: 'hello', protocolVersion: PROTOCOL_VERSION });
  }

  /**
   * Starts a job and follows it: `onJob` sees each of its events, `ended` resolves with the terminal
   * one (done, failed or cancelled). `accepted` rejects when the engine refuses the job (BUSY, …).
   */
  startJob(jobId: string, job: JobSpec, onJob?: (event: JobEvent) => void): { accepted: Promise<ResultOf<'job.start'>>; ended: Promise<JobEndEvent> } {
    let stop = () => {};
    const ended = new Promise<JobEndEvent>((resolve) => {
      stop = this.onEvent((event) => {
        if (!('jobId' in event) || event.jobId !== jobId || event.type === 'onLog') return;
        onJob?.(event);
        if (event.type === 'onJobDone' || event.type === 'onJobFailed' || event.type === 'onJobCancelled') {
          stop();
          resolve(event);
        }
      });
    });
    const accepted = this.request({ type: 'job.start', jobId, job });
    accepted.catch(() => stop());
    return { accepted, ended };
  }

  cancelJob(jobId: string): Promise<ResultOf<'job.cancel'>> {
    return this.request({ type: 'job.cancel', jobId });
  }

  /** Pauses or resumes a pretraining job between steps. */
  controlJob(jobId: string, action: 'pause' | 'resume'): Promise<ResultOf<'job.control'>> {
    return this.request({ type: 'job.control', jobId, action });
  }

  /** Every valid event, in order of arrival; returns a function that unsubscribes. */
  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Messages from the engine that break the protocol (they are dropped): a bug in the engine. */
  onProtocolError(listener: (error: SerializedError, raw: unknown) => void): () => void {
    this.protocolErrorListeners.add(listener);
    return () => this.protocolErrorListeners.delete(listener);
  }

  /** The port is gone (the engine exited): every waiting request fails with `reason`. */
  close(reason: Error = new EngineError('INTERNAL', 'the engine connection closed')): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.unsubscribe();
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
  }

  private receive(raw: unknown): void {
    const parsed = parseEvent(raw);
    if (!parsed.ok) {
      for (const l of this.protocolErrorListeners) l(parsed.error, raw);
      return;
    }
    const event = parsed.value;
    if ((event.type === 'onReply' || event.type === 'onError') && event.id !== null) {
      const waiting = this.pending.get(event.id);
      if (waiting) {
        this.pending.delete(event.id);
        if (event.type === 'onError') waiting.reject(toEngineError(event.error));
        else if (event.command !== waiting.command) waiting.reject(new EngineError('INTERNAL', `the reply to '${waiting.command}' came as a reply to '${event.command}'`));
        else waiting.resolve(event.result);
      }
    }
    for (const l of this.listeners) l(event);
  }
}
