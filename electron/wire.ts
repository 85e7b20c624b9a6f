/**
 * One call as both transports carry it (the WebSocket in browser mode, Electron's IPC on the desktop):
 * the method and params validated against WorkbenchApi, handed to the host, and answered with a result or
 * a SerializedError — never a thrown error, so the code survives the trip (Electron's ipcMain.handle
 * would reduce a thrown error to its message).
 */
import { toSerializedError, type SerializedError } from '../common/errors';
import { WireRequest, parseParams } from '../common/workbenchApi';
import type { HostLike } from './hostLike';
import { formatIssues } from '../common/zodIssues';

export type CallOutcome = { result: unknown } | { error: SerializedError };

export async function dispatchCall(host: HostLike, method: unknown, params: unknown): Promise<CallOutcome> {
  if (typeof method !== 'string') return { error: { code: 'BAD_MESSAGE', message: 'method must be a string' } };
  const parsed = parseParams(method, params);
  if (!parsed.ok) return { error: parsed.error };
  try {
    const result = await host.call(parsed.method, parsed.params);
    return { result: result === undefined ? null : result };
  } catch (err) {
    return { error: toSerializedError(err) };
  }
}

/**
 * A raw WebSocket text frame in, the WireResponse to send back out (as JSON). A frame that is not JSON
 * or not a WireRequest is answered with BAD_MESSAGE and id -1 when its id cannot be read.
 */
export async function answerWireMessage(host: HostLike, text: string): Promise<string> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return JSON.stringify({ id: -1, error: { code: 'BAD_MESSAGE', message: 'message is not JSON' } });
  }
  const req = WireRequest.safeParse(raw);
  if (!req.success) {
    const id = raw && typeof raw === 'object' && Number.isInteger((raw as { id?: unknown }).id) ? (raw as { id: number }).id : -1;
    return JSON.stringify({ id, error: { code: 'BAD_MESSAGE', message: `request: ${formatIssues(req.error)}` } });
  }
  const outcome = await dispatchCall(host, req.data.method, req.data.params);
  try {
    return JSON.stringify({ id: req.data.id, ...outcome });
  } catch (err) {
    return JSON.stringify({ id: req.data.id, error: { code: 'INTERNAL', message: `result of ${req.data.method} cannot be sent: ${String(err)}` } });
  }
}
