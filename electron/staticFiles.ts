/**
 * The renderer's built files (dist/renderer) by URL path, for the browser-mode server and the desktop
 * app's protocol alike: no directory listings, nothing outside the root (.., encoded slashes, NUL, and
 * symbolic links that lead out are all refused), and a content type for every file served.
 */
import fs from 'node:fs';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export type StaticLookup =
  | { ok: true; file: string; contentType: string; size: number }
  | { ok: false; status: 400 | 403 | 404; reason: string };

export function contentTypeOf(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** `pathname` is the URL's path as sent (still percent-encoded), e.g. "/assets/index-3f2a.js". */
export function lookupStatic(root: string, pathname: string): StaticLookup {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { ok: false, status: 400, reason: 'bad percent-encoding' };
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return { ok: false, status: 400, reason: 'bad path' };
  // Refuse rather than normalize: a request that climbs with .. is not one the renderer makes.
  if (decoded.split('/').some((seg) => seg === '..' || seg === '.')) return { ok: false, status: 403, reason: 'path traversal' };
  const rel = decoded === '/' ? 'index.html' : decoded.slice(1);
  let rootReal: string;
  try {
    rootReal = fs.realpathSync(root);
  } catch {
    return { ok: false, status: 404, reason: 'renderer not built' };
  }
  const candidate = path.resolve(rootReal, rel);
  if (candidate !== rootReal && !candidate.startsWith(rootReal + path.sep)) return { ok: false, status: 403, reason: 'outside the root' };
  let real: string;
  let stat: fs.Stats;
  try {
    real = fs.realpathSync(candidate);
    stat = fs.statSync(real);
  } catch {
    return { ok: false, status: 404, reason: 'not found' };
  }
  if (!real.startsWith(rootReal + path.sep)) return { ok: false, status: 403, reason: 'link outside the root' };
  if (!stat.isFile()) return { ok: false, status: 404, reason: 'not a file' }; // directories: no listing
  return { ok: true, file: real, contentType: contentTypeOf(real), size: stat.size };
}
