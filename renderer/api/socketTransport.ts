import {
  WireEvent, WireResponse,
  type ParamsOf, type PayloadOf, type ResultOfMethod, type WorkbenchApi, type WorkbenchEvent, type WorkbenchMethod,
} from '../../common/workbenchApi';
import type { SerializedError } from '../../common/errors';

/** A call that the host answered with an error: keeps the protocol's code, path and message. */
export class ApiError extends Error {
  constructor(readonly code: SerializedError['code'] | 'DISCONNECTED', message: string, readonly path?: (string | number)[]) {
    super(message);
    this.name = 'ApiError';
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string };

/**
 * Browser mode: WorkbenchApi over one WebSocket to the page's own origin (`/api?token=…`; ./index.ts
 * says where the token comes from). Calls wait for the socket to open; when it drops, pending calls fail
 * with a DISCONNECTED error and the socket is reopened with a growing delay, so a restarted host is
 * picked up.
 */
export class SocketTransport implements WorkbenchApi {
  private socket: WebSocket | null = null;
  private opened: Promise<WebSocket> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  private retryMs = 500;

  constructor(private readonly url: string) {}

  call<M extends WorkbenchMethod>(method: M, params: ParamsOf<M>): Promise<ResultOfMethod<M>> {
    return this.connect().then((ws) => new Promise<ResultOfMethod<M>>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      ws.send(JSON.stringify({ id, method, params }));
    }));
  }

  on<E extends WorkbenchEvent>(event: E, listener: (payload: PayloadOf<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const l = listener as (payload: unknown) => void;
    set.add(l);
    void this.connect().catch(() => { /* reconnects on its own */ });
    return () => { set.delete(l); };
  }

  private connect(): Promise<WebSocket> {
    if (this.opened) return this.opened;
    this.opened = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.socket = ws;
      ws.onopen = () => { this.retryMs = 500; resolve(ws); };
      ws.onmessage = (m) => this.receive(m.data);
      ws.onclose = () => {
        this.socket = null;
        this.opened = null;
        for (const [, p] of this.pending) p.reject(new ApiError('DISCONNECTED', `${p.method}: the connection to the workbench host closed or was refused; once it runs again, reload (after a restart of the host, open the URL it printed)`));
        this.pending.clear();
        reject(new ApiError('DISCONNECTED', `cannot reach the workbench host at ${this.url}`));
        this.emit('onEngineStatus', { state: 'stopped', pid: null, backend: null, lastExit: 'the connection to the workbench host closed', restarts: 0 });
        setTimeout(() => { if (this.listeners.size) void this.connect().catch(() => {}); }, this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 10_000);
      };
    });
    return this.opened;
  }

  private receive(data: unknown): void {
    let msg: unknown;
    try { msg = JSON.parse(String(data)); } catch { return; }
    const ev = WireEvent.safeParse(msg);
    if (ev.success) { this.emit(ev.data.event, ev.data.payload); return; }
    const res = WireResponse.safeParse(msg);
    if (!res.success) return;
    const p = this.pending.get(res.data.id);
    if (!p) return;
    this.pending.delete(res.data.id);
    if ('error' in res.data) p.reject(new ApiError(res.data.error.code, res.data.error.message, res.data.error.path));
    else p.resolve(res.data.result);
  }

  private emit(event: string, payload: unknown): void {
    for (const l of this.listeners.get(event) ?? []) {
      try { l(payload); } catch (err) { console.error(`listener of ${event} failed`, err); }
    }
  }
}
