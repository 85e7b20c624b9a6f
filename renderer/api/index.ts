import type { WorkbenchApi } from '../../common/workbenchApi';
import { ApiError, SocketTransport } from './socketTransport';

export { ApiError };

declare global {
  interface Window {
    /** the desktop shell's preload bridge; absent in browser mode */
    workbench?: WorkbenchApi;
  }
}

/** Which shell the page runs in: the desktop app has a native menu and file dialogs, the browser has neither. */
export type Shell = 'desktop' | 'browser';

let api: WorkbenchApi | null = null;

export function shell(): Shell {
  return window.workbench ? 'desktop' : 'browser';
}

const TOKEN_KEY = 'workbench-token';

/**
 * Browser mode: the server's token, which its API socket asks for. The server hands it over once in the
 * URL's fragment (#token=…); it is kept in this origin's localStorage — per port, unlike cookies, so no
 * other local server can read it — and taken out of the address bar and the history.
 */
function browserToken(): string | null {
  const m = /^#token=([0-9a-f]{16,128})$/.exec(location.hash);
  if (m) {
    localStorage.setItem(TOKEN_KEY, m[1]);
    history.replaceState(history.state, '', location.pathname + location.search);
  }
  return localStorage.getItem(TOKEN_KEY);
}

/** The one WorkbenchApi of this page: the preload bridge on the desktop, a same-origin WebSocket in a browser. */
export function getApi(): WorkbenchApi {
  if (api) return api;
  if (window.workbench) {
    api = window.workbench;
  } else {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const token = browserToken();
    api = new SocketTransport(`${scheme}://${location.host}/api${token ? `?token=${token}` : ''}`);
  }
  return api;
}

/** Tests and the dev harness hand in their own implementation. */
export function setApi(a: WorkbenchApi): void {
  api = a;
}

/** An error's message for a banner, whatever threw it. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}
