/**
 * The desktop shell's guards, as plain functions Electron calls (Electron's security checklist, items
 * 4–17): a CSP on everything the app's protocol serves, no navigation away from the app, no new windows,
 * no permissions, no <webview>, and IPC answered only for the main frame of our window showing our app.
 * Objects are typed structurally (the few fields read), so tests can hand in minimal fakes.
 */
import { rendererCsp } from '../csp';

/** The app is served from its own privileged scheme (checklist 18: not file://). */
export const APP_SCHEME = 'workbench';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

/** No WebSocket, no remote anything: on the desktop the renderer talks through the preload only. */
export function appCsp(): string {
  return rendererCsp();
}

export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

/** will-navigate / will-redirect / will-frame-navigate: only within the app. */
export function guardNavigation(event: { preventDefault(): void }, url: string): boolean {
  if (isAppUrl(url)) return true;
  event.preventDefault();
  return false;
}

/** setWindowOpenHandler: the app opens no windows (links to the web are not followed from here). */
export function denyWindowOpen(_details: { url: string }): { action: 'deny' } {
  return { action: 'deny' };
}

/** will-attach-webview: the app has no <webview>; refuse any that appears. */
export function denyWebview(event: { preventDefault(): void }): void {
  event.preventDefault();
}

/** session.setPermissionRequestHandler: camera, notifications, geolocation … none is needed. */
export function denyPermissionRequest(_webContents: unknown, _permission: string, callback: (granted: boolean) => void): void {
  callback(false);
}

/** session.setPermissionCheckHandler */
export function denyPermissionCheck(): boolean {
  return false;
}

export interface FrameLike { url: string; parent?: FrameLike | null; processId?: number; routingId?: number }
export interface IpcEventLike { sender: unknown; senderFrame: FrameLike | null }
export interface WindowLike { isDestroyed(): boolean; webContents: { mainFrame: FrameLike; id?: number } }

// Electron hands out wrapper objects; compare by identity, else by the ids that name the same thing.
function sameWebContents(a: unknown, b: { id?: number }): boolean {
  if (a === b) return true;
  const id = (a as { id?: unknown } | null)?.id;
  return typeof id === 'number' && id === b.id;
}

function sameFrame(a: FrameLike, b: FrameLike): boolean {
  if (a === b) return true;
  return typeof a.processId === 'number' && typeof a.routingId === 'number' && a.processId === b.processId && a.routingId === b.routingId;
}

/**
 * The IPC sender check: a message counts only when it comes from the main frame (not an iframe) of our
 * window's webContents, and that frame shows our app. A frame that navigated away, or was destroyed
 * (senderFrame null), is refused.
 */
export function isTrustedSender(event: IpcEventLike, win: WindowLike | null): boolean {
  if (!win || win.isDestroyed()) return false;
  if (!sameWebContents(event.sender, win.webContents)) return false;
  const frame = event.senderFrame;
  if (!frame || !sameFrame(frame, win.webContents.mainFrame)) return false;
  if (frame.parent) return false;
  return isAppUrl(frame.url);
}

export interface WebContentsLike {
  on(event: 'will-navigate' | 'will-redirect' | 'will-frame-navigate', listener: (event: { preventDefault(): void; url?: string }, url?: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/** Every webContents the app creates gets the same guards (app.on('web-contents-created')). */
export function hardenWebContents(contents: WebContentsLike): void {
  for (const name of ['will-navigate', 'will-redirect', 'will-frame-navigate'] as const) {
    // Electron ≥ 28 passes an event carrying `url` first; older signatures pass the url second.
    contents.on(name, (event, url) => guardNavigation(event, event.url ?? url ?? ''));
  }
  contents.on('will-attach-webview', denyWebview);
  contents.setWindowOpenHandler(denyWindowOpen);
}

export interface SessionLike {
  setPermissionRequestHandler(handler: typeof denyPermissionRequest): void;
  setPermissionCheckHandler(handler: typeof denyPermissionCheck): void;
}

export function hardenSession(session: SessionLike): void {
  session.setPermissionRequestHandler(denyPermissionRequest);
  session.setPermissionCheckHandler(denyPermissionCheck);
}
