/**
 * Browser mode: the renderer over HTTP and WorkbenchApi over a WebSocket, on 127.0.0.1 only.
 * Every request passes the gate of common/node/loopbackGuard (Host, Origin, token or session cookie) before anything
 * else happens; the printed URL's token is traded on first load for an HttpOnly, SameSite=Strict cookie
 * and a redirect that moves the token into the URL's fragment, where the page picks it up for the API
 * socket and clears it from the address bar and the history.
 *
 *   GET /…             the built renderer (dist/renderer), with the CSP of ../csp; token or cookie
 *   GET /api?token=…   WebSocket: WireRequest in → WireResponse out; host events out as WireEvent; token only
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { WORKBENCH_EVENTS, type WorkbenchEvent } from '../../common/workbenchApi';
import { rendererCsp, securityHeaders } from '../csp';
import type { HostLike } from '../hostLike';
import { lookupStatic } from '../staticFiles';
import { answerWireMessage } from '../wire';
import { type GuardConfig, judge, newSecret, ownOrigins, sessionCookie } from '../../common/node/loopbackGuard';

export const WS_PATH = '/api';

export interface ServerOptions {
  host: HostLike;
  /** the built renderer, normally dist/renderer */
  rendererDir: string;
  /** 0 (the default) picks a free port */
  port?: number;
  /** a fixed token, for tests; a random 256-bit one otherwise */
  token?: string;
  /** the largest WebSocket message accepted; a bigger one closes the socket (1009) */
  maxMessageBytes?: number;
  /** calls one connection may have in flight (until their answers are sent) before further ones are answered BUSY */
  maxInFlight?: number;
  /**
   * bytes of the requests one connection has in flight (until their answers are sent) before further ones are
   * answered BUSY. Default 64 MiB: four calls of the largest message at once, one per answering turn; without it
   * 64 calls of 16 MiB each could hold 1 GiB of requests on one connection.
   */
  maxInFlightBytes?: number;
  /** bytes waiting to be sent to one connection (answers and events it has not read); past it the connection is closed. Default 64 MiB */
  maxBufferedBytes?: number;
  /**
   * calls of one connection being answered at the same time (default 4); the rest of its calls in flight wait
   * their turn. An answer can be as large as an experiment file (32 MB), and making it holds several copies:
   * without this bound, 40 calls at once held 40 of them, whether or not anyone would read them.
   */
  maxAnswering?: number;
  log?: (line: string) => void;
}

export interface WorkbenchServer {
  /** the URL to open, token included: http://127.0.0.1:PORT/?token=… */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly server: http.Server;
  close(): Promise<void>;
}

export const LOOPBACK = '127.0.0.1';

export async function createWorkbenchServer(opts: ServerOptions): Promise<WorkbenchServer> {
  const maxMessageBytes = opts.maxMessageBytes ?? 16 * 1024 * 1024;
  const maxInFlight = opts.maxInFlight ?? 64;
  const maxInFlightBytes = opts.maxInFlightBytes ?? 64 * 1024 * 1024;
  const maxBufferedBytes = opts.maxBufferedBytes ?? 64 * 1024 * 1024;
  const maxAnswering = opts.maxAnswering ?? 4;
  const log = opts.log ?? (() => undefined);
  const server = http.createServer();
  // Never 0.0.0.0 or ::, whatever the caller asks: the gate below assumes only this machine can connect.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: opts.port ?? 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const cfg: GuardConfig = { port, token: opts.token ?? newSecret(), session: newSecret() };
  const headers = securityHeaders(rendererCsp({ connect: ownOrigins(port).map((o) => o.replace(/^http/, 'ws') + WS_PATH) }));
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, clientTracking: true });

  server.on('request', (req, res) => {
    try {
      handleHttp(req, res);
    } catch (err) {
      log(`http: ${String(err)}`);
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    }
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const pathname = safePathname(req.url);
    if (pathname !== WS_PATH) return refuseUpgrade(socket, 404);
    const verdict = judge(cfg, req, true);
    if (!verdict.ok) {
      log(`ws refused: ${verdict.reason}`);
      return refuseUpgrade(socket, verdict.status);
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  function handleHttp(req: IncomingMessage, res: ServerResponse): void {
    const verdict = judge(cfg, req, false);
    if (!verdict.ok) {
      log(`http refused ${req.method} ${safePathname(req.url) ?? '?'}: ${verdict.reason}`);
      return plain(res, verdict.status, verdict.status === 401 ? 'This workbench needs its token: open the URL that `npm start` printed.\n' : `Refused: ${verdict.reason}.\n`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return plain(res, 405, 'method not allowed\n');
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (verdict.via === 'token' && url.searchParams.has('token')) {
      // Trade the token for the cookie (the page's files) and move it from the query into the fragment, which
      // browsers never send: the page keeps it for its API socket and clears the address bar (loopbackGuard.ts says
      // why the cookie alone does not open the API). One leading slash: never //host.
      url.searchParams.delete('token');
      const location = '/' + url.pathname.replace(/^\/+/, '') + url.search + '#token=' + encodeURIComponent(cfg.token);
      res.writeHead(302, { ...headers, 'Set-Cookie': sessionCookie(cfg), Location: location, 'Cache-Control': 'no-store' });
      return void res.end();
    }
    if (url.pathname === WS_PATH) return plain(res, 426, 'WebSocket only\n');
    // The path as sent, not as URL parsing normalized it: a request that climbs with .. is refused, not rewritten.
    const rawPath = (req.url ?? '/').startsWith('/') ? (req.url ?? '/').split(/[?#]/)[0] : url.pathname;
    const found = lookupStatic(opts.rendererDir, rawPath);
    if (!found.ok) {
      if (found.reason === 'renderer not built' || (url.pathname === '/' && found.status === 404)) {
        return plain(res, 503, `The renderer is not built (${opts.rendererDir}); run \`npm run build:renderer\`.\n`);
      }
      if (url.pathname === '/favicon.ico' && found.status === 404) { res.writeHead(204, headers); return void res.end(); }
      return plain(res, found.status, found.status === 404 ? 'not found\n' : 'refused\n');
    }
    res.writeHead(200, { ...headers, 'Content-Type': found.contentType, 'Content-Length': String(found.size), 'Cache-Control': 'no-cache' });
    if (req.method === 'HEAD') return void res.end();
    const stream = fs.createReadStream(found.file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  function plain(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-store' });
    res.end(body);
  }

  function serveSocket(ws: WebSocket): void {
    let inFlight = 0;
    let inFlightBytes = 0;
    /**
     * Sends, with `sent` called once the frame has left for the socket (or never will). Backpressure: what a
     * client has not read waits in the server's memory, so a client that stops reading is closed once more
     * than maxBufferedBytes of it wait; the server's memory stays bounded whatever a client does.
     */
    const send = (text: string, sent?: () => void) => {
      if (ws.readyState !== ws.OPEN) return void sent?.();
      ws.send(text, (err) => { if (err) log(`ws send: ${err.message}`); sent?.(); });
      if (ws.bufferedAmount > maxBufferedBytes) {
        log(`closing a client that does not read: ${ws.bufferedAmount} bytes unsent, more than the ${maxBufferedBytes} a connection may hold`);
        ws.terminate();
      }
    };
    const unsubscribe = (Object.keys(WORKBENCH_EVENTS) as WorkbenchEvent[]).map((event) =>
      opts.host.on(event, (payload) => {
        let text: string;
        try {
          text = JSON.stringify({ event, payload });
        } catch (err) {
          return log(`event ${event} cannot be sent: ${String(err)}`);
        }
        send(text);
      }));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return send(JSON.stringify({ id: -1, error: { code: 'BAD_MESSAGE', message: 'binary messages are not part of the protocol; send JSON text' } }));
      const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as ArrayBuffer).byteLength;
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      const busy = inFlight >= maxInFlight
        ? `more than ${maxInFlight} calls in flight on this connection; wait for answers before sending more`
        : inFlightBytes + bytes > maxInFlightBytes
          ? `the calls in flight on this connection hold ${mib(inFlightBytes)} MiB and this one ${mib(bytes)} MiB, more than the ${mib(maxInFlightBytes)} MiB a connection may have waiting; wait for answers before sending more`
          : null;
      if (busy) {
        let id = -1;
        try { const v = JSON.parse(text) as { id?: unknown }; if (Number.isInteger(v?.id)) id = v.id as number; } catch { /* answered as -1 */ }
        return send(JSON.stringify({ id, error: { code: 'BUSY', message: busy } }));
      }
      // a call is in flight until its answer has left for the socket, not merely been computed: a client that
      // sends and never reads is held to maxInFlight answers (and maxInFlightBytes of requests), not to as many as it cares to ask for
      inFlight++;
      inFlightBytes += bytes;
      const done = () => { inFlight--; inFlightBytes -= bytes; };
      waiting.push(() => answerWireMessage(opts.host, text).then((answer) => send(answer, done), (err) => { log(`ws answer: ${String(err)}`); done(); }));
      answerNext();
    });
    /** calls waiting for one of the maxAnswering turns, oldest first */
    const waiting: (() => Promise<void>)[] = [];
    let answering = 0;
    const answerNext = () => {
      // nobody will read the answers of a connection that is closing or closed (one that stopped reading): they are not made
      if (ws.readyState !== ws.OPEN) waiting.length = 0;
      while (answering < maxAnswering && waiting.length) {
        answering++;
        void waiting.shift()!().finally(() => { answering--; answerNext(); });
      }
    };
    ws.on('error', (err) => log(`ws: ${err.message}`));
    ws.on('close', () => {
      unsubscribe.forEach((off) => off());
      waiting.length = 0;
    });
  }

  return {
    url: `http://${LOOPBACK}:${port}/?token=${cfg.token}`,
    port,
    token: cfg.token,
    server,
    async close() {
      for (const ws of wss.clients) ws.close(1001, 'server closing');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

function safePathname(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://x').pathname;
  } catch {
    return null;
  }
}

function refuseUpgrade(socket: Duplex, status: number): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  else socket.destroy();
}
