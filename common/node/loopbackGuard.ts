/**
 * A loopback server's gate (the browser mode's, and the engine's inference server), as pure
 * functions of a request's headers and URL (Jupyter's model):
 * - Host must name the loopback address this server serves (127.0.0.1:PORT or localhost:PORT), so a
 *   DNS-rebinding page at evil.example, whose name now points at 127.0.0.1, is refused;
 * - Origin, when a browser sends one, must be the server's own; the WebSocket upgrade must send one;
 * - the caller must hold the secret. For the page's files, the session cookie set when the printed URL's
 *   token was first presented will do, or the token itself (?token=… or `Authorization: token …`). The
 *   API socket needs the token: cookies are not scoped by port, so every other server on 127.0.0.1 that
 *   the browser visits receives the cookie — with it alone one can fetch the (public) app bundle, not
 *   reach the workbench. The page keeps the token in its own origin's localStorage, which is per port.
 */
import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface GuardConfig {
  port: number;
  /** the secret in the printed URL */
  token: string;
  /** the secret in the cookie, distinct from the token so that one can be rotated without the other */
  session: string;
}

/**
 * A token-only server's gate (the inference API, which curl and OpenAI clients call): no cookie is taken,
 * so a POST without Origin is no cross-site forgery (a page elsewhere cannot attach the token).
 */
export type TokenGuardConfig = Omit<GuardConfig, 'session'> & { session?: undefined };

export type Verdict = { ok: true; via: 'cookie' | 'token' } | { ok: false; status: 400 | 401 | 403; reason: string };

export function newSecret(): string {
  return crypto.randomBytes(32).toString('hex');
}

/** Cookies are not scoped by port: the name carries it, so two workbenches on one machine do not collide. */
export function cookieName(port: number): string {
  return `workbench-session-${port}`;
}

export function sessionCookie(cfg: GuardConfig): string {
  return `${cookieName(cfg.port)}=${cfg.session}; Path=/; HttpOnly; SameSite=Strict`;
}

export function ownOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

export function checkHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

export function secretsEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/**
 * Every value of the cookie `name` in a Cookie header. There can be several: a page on another port of
 * 127.0.0.1 can set one of the same name (with a longer Path, so it is sent first) to lock the user out.
 */
export function readCookies(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

function presentedToken(url: URL, headers: IncomingHttpHeaders): string | null {
  const q = url.searchParams.get('token');
  if (q !== null) return q;
  const auth = headers.authorization;
  // `Bearer` is what OpenAI's clients send with their api_key
  if (typeof auth === 'string' && /^(token|bearer)\s+/i.test(auth)) return auth.replace(/^(token|bearer)\s+/i, '');
  return null;
}

/**
 * The verdict on one request. `upgrade` is the WebSocket handshake, which must carry the server's own
 * Origin; plain HTTP requests may omit it (a top-level navigation does) but must not name another.
 */
export function judge(cfg: GuardConfig | TokenGuardConfig, req: { headers: IncomingHttpHeaders; url?: string; method?: string }, upgrade: boolean): Verdict {
  if (!checkHost(req.headers.host, cfg.port)) return { ok: false, status: 403, reason: 'Host is not this server\'s loopback address' };
  const origin = req.headers.origin;
  if (origin !== undefined && !ownOrigins(cfg.port).includes(origin)) return { ok: false, status: 403, reason: 'foreign Origin' };
  if (upgrade && origin === undefined) return { ok: false, status: 403, reason: 'WebSocket upgrade without Origin' };
  const method = (req.method ?? 'GET').toUpperCase();
  if (!upgrade && cfg.session !== undefined && method !== 'GET' && method !== 'HEAD' && origin === undefined) return { ok: false, status: 403, reason: 'state-changing request without Origin' };
  let url: URL;
  try {
    url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  } catch {
    return { ok: false, status: 400, reason: 'bad URL' };
  }
  const token = presentedToken(url, req.headers);
  if (token !== null) {
    return secretsEqual(token, cfg.token) ? { ok: true, via: 'token' } : { ok: false, status: 403, reason: 'wrong token' };
  }
  if (upgrade) return { ok: false, status: 401, reason: 'the API socket needs the token; open the URL that `npm start` printed' };
  const session = cfg.session;
  if (session === undefined) return { ok: false, status: 401, reason: 'no token; send `Authorization: Bearer TOKEN` with the token the server printed' };
  const cookies = readCookies(req.headers.cookie, cookieName(cfg.port));
  if (cookies.some((c) => secretsEqual(c, session))) return { ok: true, via: 'cookie' };
  if (cookies.length) return { ok: false, status: 403, reason: 'stale or wrong session cookie' };
  return { ok: false, status: 401, reason: 'no token or session cookie; open the URL that `npm start` printed' };
}
