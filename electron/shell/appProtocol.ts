/**
 * The app's protocol (workbench://app/…): the built renderer from dist/renderer, through the same safe
 * lookup as the browser-mode server, with the desktop CSP on every response. Returns a plain description
 * that electron/main.ts turns into a Response, so it runs and is tested without Electron.
 */
import { securityHeaders } from '../csp';
import { lookupStatic } from '../staticFiles';
import { APP_HOST, APP_SCHEME, appCsp } from './security';

export type AppResponse =
  | { status: 200; headers: Record<string, string>; file: string }
  | { status: number; headers: Record<string, string>; body: string };

export function appProtocolResponse(rendererDir: string, requestUrl: string, method = 'GET'): AppResponse {
  const headers = securityHeaders(appCsp());
  const text = (status: number, body: string): AppResponse => ({ status, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }, body });
  if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed');
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return text(400, 'bad URL');
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return text(403, 'not the app');
  // For a standard scheme the URL is already normalized, so .. cannot reach here; lookupStatic still checks.
  const found = lookupStatic(rendererDir, url.pathname);
  if (!found.ok) {
    if (found.reason === 'renderer not built') return text(503, `The renderer is not built (${rendererDir}); run \`npm run build:renderer\`.`);
    return text(found.status, found.status === 404 ? 'not found' : 'refused');
  }
  return { status: 200, headers: { ...headers, 'Content-Type': found.contentType, 'Cache-Control': 'no-cache' }, file: found.file };
}
