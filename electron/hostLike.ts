import type { WorkbenchEvent } from '../common/workbenchApi';

/**
 * What the transports need of the host services (electron/host/workbenchHost.ts): calls by method name,
 * event subscriptions, and an orderly shutdown. The browser-mode server and the Electron IPC carry exactly
 * this, so either can be tested against a small fake and wired to the real host in the entry points.
 */
export interface HostLike {
  call(method: string, params: unknown): Promise<unknown>;
  on(event: WorkbenchEvent, listener: (payload: unknown) => void): () => void;
  dispose(): Promise<void>;
}
