/**
 * What the preload exposes as `window.workbench`: WorkbenchApi's call/on over two IPC channels, checking
 * what crosses both ways — params before they leave (parseParams), results and event payloads against
 * their schemas before they reach the page. The page never sees an IpcRendererEvent or ipcRenderer itself.
 *
 * A rejection is a plain { name: 'EngineError', code, message, path? } object, not an Error: the
 * contextBridge rebuilds an Error from its message alone, which would lose the code the UI reacts to.
 */
import { SerializedError, type ErrorCode } from '../../common/errors';
import {
  WORKBENCH_EVENTS, WORKBENCH_METHODS, parseParams,
  type ParamsOf, type PayloadOf, type ResultOfMethod, type WorkbenchApi, type WorkbenchEvent, type WorkbenchMethod,
} from '../../common/workbenchApi';
import { CALL_CHANNEL, EVENT_CHANNEL } from './ipc';
import { formatIssues } from '../../common/zodIssues';

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export interface BridgeError { name: 'EngineError'; code: ErrorCode; message: string; path?: (string | number)[] }

function fail(code: ErrorCode, message: string, path?: (string | number)[]): BridgeError {
  return { name: 'EngineError', code, message, ...(path ? { path } : {}) };
}

export function createBridgeApi(ipc: IpcRendererLike): WorkbenchApi {
  return {
    async call<M extends WorkbenchMethod>(method: M, params: ParamsOf<M>): Promise<ResultOfMethod<M>> {
      const parsed = parseParams<M>(String(method), params);
      if (!parsed.ok) throw fail(parsed.error.code, parsed.error.message, parsed.error.path);
      const reply = await ipc.invoke(CALL_CHANNEL, { method: parsed.method, params: parsed.params });
      if (reply && typeof reply === 'object' && 'error' in reply) {
        const err = SerializedError.safeParse((reply as { error: unknown }).error);
        if (!err.success) throw fail('INTERNAL', `${method}: the host answered with a malformed error`);
        throw fail(err.data.code, err.data.message, err.data.path);
      }
      if (!reply || typeof reply !== 'object' || !('result' in reply)) throw fail('INTERNAL', `${method}: the host answered with neither result nor error`);
      const result = WORKBENCH_METHODS[parsed.method].result.safeParse((reply as { result: unknown }).result);
      if (!result.success) {
        throw fail('INTERNAL', `${method}: the host's result does not match the API: ${formatIssues(result.error)}`);
      }
      return result.data as ResultOfMethod<M>;
    },
    on<E extends WorkbenchEvent>(event: E, listener: (payload: PayloadOf<E>) => void): () => void {
      if (!Object.hasOwn(WORKBENCH_EVENTS, event)) throw fail('UNKNOWN_COMMAND', `unknown event '${String(event)}'; the workbench API has ${Object.keys(WORKBENCH_EVENTS).join(', ')}`);
      if (typeof listener !== 'function') throw fail('BAD_MESSAGE', `${event}: listener must be a function`);
      const schema = WORKBENCH_EVENTS[event];
      const wrapped = (_e: unknown, message: unknown) => {
        if (!message || typeof message !== 'object') return;
        const m = message as { event?: unknown; payload?: unknown };
        if (m.event !== event) return;
        const payload = schema.safeParse(m.payload);
        if (payload.success) listener(payload.data as PayloadOf<E>);
      };
      ipc.on(EVENT_CHANNEL, wrapped);
      return () => { ipc.removeListener(EVENT_CHANNEL, wrapped); };
    },
  };
}
