/**
 * WorkbenchApi over Electron's IPC: one invoke channel for calls, one channel pushing events.
 * Calls are answered only for our window's main frame showing the app (isTrustedSender), validated with
 * parseParams, and answered as { result } or { error: SerializedError } (see ../wire), never thrown.
 */
import { WORKBENCH_EVENTS, type WorkbenchEvent } from '../../common/workbenchApi';
import type { HostLike } from '../hostLike';
import { dispatchCall, type CallOutcome } from '../wire';
import { isTrustedSender, type IpcEventLike, type WindowLike } from './security';

export const CALL_CHANNEL = 'workbench:call';
export const EVENT_CHANNEL = 'workbench:event';

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface EventWindow extends WindowLike {
  webContents: WindowLike['webContents'] & { send(channel: string, message: unknown): void };
}

export interface IpcBridge {
  /** pushes one event to the window (the menu uses it for onMenuCommand) */
  send(event: WorkbenchEvent, payload: unknown): void;
  dispose(): void;
}

export function handleCall(host: HostLike, win: WindowLike | null, event: IpcEventLike, request: unknown): Promise<CallOutcome> {
  if (!isTrustedSender(event, win)) {
    return Promise.resolve({ error: { code: 'BAD_MESSAGE', message: 'refused: this IPC call does not come from the workbench window' } });
  }
  if (!request || typeof request !== 'object' || Array.isArray(request)) {
    return Promise.resolve({ error: { code: 'BAD_MESSAGE', message: 'a call is { method, params }' } });
  }
  const { method, params } = request as { method?: unknown; params?: unknown };
  return dispatchCall(host, method, params);
}

export function registerIpc(opts: { ipcMain: IpcMainLike; host: HostLike; getWindow: () => EventWindow | null }): IpcBridge {
  opts.ipcMain.handle(CALL_CHANNEL, (event, request) => handleCall(opts.host, opts.getWindow(), event, request));
  const send = (event: WorkbenchEvent, payload: unknown) => {
    const win = opts.getWindow();
    if (win && !win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, { event, payload });
  };
  const offs = (Object.keys(WORKBENCH_EVENTS) as WorkbenchEvent[]).map((event) => opts.host.on(event, (payload) => send(event, payload)));
  return {
    send,
    dispose() {
      offs.forEach((off) => off());
      opts.ipcMain.removeHandler(CALL_CHANNEL);
    },
  };
}
