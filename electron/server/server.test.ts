import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { WorkbenchEvent } from '../../common/workbenchApi';
import type { HostLike } from '../hostLike';
import { cookieName } from '../../common/node/loopbackGuard';
import { createWorkbenchServer, type WorkbenchServer } from './server';

/** A stand-in for the host: records calls, answers from a table, emits events on demand. */
function fakeHost() {
  const calls: { method: string; params: unknown }[] = [];
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const host: HostLike & { calls: typeof calls; emit(event: WorkbenchEvent, payload: unknown): void; listenerCount(): number } = {
    calls,
    async call(method, params) {
      calls.push({ method, params });
      if (method === 'engine.restart') throw Object.assign(new Error('engine is busy with a job'), { code: 'BUSY' });
      if (method === 'experiments.recent') return ['/tmp/a.experiment.json'];
      if (method === 'experiments.list') return [{ bad: 1n }]; // not JSON-serializable
      return { method, params };
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    async dispose() {},
    emit(event, payload) { for (const l of listeners.get(event) ?? []) l(payload); },
    listenerCount() { return [...listeners.values()].reduce((n, s) => n + s.size, 0); },
  };
  return host;
}

type Reply = { status: number; headers: http.IncomingHttpHeaders; body: string };

function request(port: number, p: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw WebSocket handshake: 101 when the server upgrades, else the status it refused with. */
function upgrade(port: number, p: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: p,
      headers: { host: `127.0.0.1:${port}`, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', (_res, socket) => { socket.destroy(); resolve(101); });
    req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
}

describe('browser-mode server', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-server-'));
  const root = path.join(dir, 'renderer');
  const host = fakeHost();
  let srv: WorkbenchServer;
  let port: number;
  let origin: string;
  let cookie: string;

  before(async () => {
    fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>wb</title><script type="module" src="/assets/app.js"></script>');
    fs.writeFileSync(path.join(root, 'assets', 'app.js'), 'console.log(1)');
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'outside the root');
    fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'link.txt'));
    srv = await createWorkbenchServer({ host, rendererDir: root, token: 'a'.repeat(64), maxMessageBytes: 64 * 1024 });
    port = srv.port;
    origin = `http://127.0.0.1:${port}`;
    cookie = '';
  });
  after(async () => {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('listens on 127.0.0.1 only and prints a tokenized loopback URL', async () => {
    const addr = srv.server.address();
    assert.ok(addr && typeof addr === 'object');
    assert.equal(addr.address, '127.0.0.1');
    assert.equal(addr.family, 'IPv4');
    assert.equal(srv.url, `http://127.0.0.1:${port}/?token=${'a'.repeat(64)}`);
    // a non-loopback address of this machine, where it has one, must not reach the server
    const external = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      await assert.rejects(new Promise((resolve, reject) => {
        const req = http.get({ host: external.address, port, path: '/' }, resolve);
        req.on('error', reject);
      }));
    }
  });

  test('a random token is 256 bits when none is given', async () => {
    const other = await createWorkbenchServer({ host: fakeHost(), rendererDir: root });
    try {
      assert.match(other.token, /^[0-9a-f]{64}$/);
      assert.notEqual(other.token, 'a'.repeat(64));
    } finally {
      await other.close();
    }
  });

  test('HTTP GET /: the token is exchanged for an HttpOnly SameSite=Strict cookie and moves to the fragment, which is never sent', async () => {
    const r = await request(port, `/?token=${'a'.repeat(64)}`);
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, `/#token=${'a'.repeat(64)}`);
    const set = String(r.headers['set-cookie']);
    assert.match(set, new RegExp(`^${cookieName(port)}=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict$`));
    assert.ok(!set.includes('a'.repeat(64)), 'the cookie is not the token');
    cookie = set.split(';')[0];
    const again = await request(port, '/?token=' + 'a'.repeat(64) + '&x=1');
    assert.equal(again.headers.location, `/?x=1#token=${'a'.repeat(64)}`, 'other query parameters survive');
  });

  test('HTTP GET / refusal matrix', async () => {
    const ok = { cookie };
    const cases: [string, string, Record<string, string>, number][] = [
      ['no token, no cookie', '/', {}, 401],
      ['wrong token', '/?token=' + 'b'.repeat(64), {}, 403],
      ['short wrong token', '/?token=x', {}, 403],
      ['wrong cookie', '/', { cookie: `${cookieName(port)}=${'c'.repeat(64)}` }, 403],
      ['cookie of another port', '/', { cookie: cookie.replace(String(port), String(port + 1)) }, 401],
      ['foreign Origin', '/', { ...ok, origin: 'http://evil.example' }, 403],
      ['Origin of another loopback port', '/', { ...ok, origin: `http://127.0.0.1:${port + 1}` }, 403],
      ['Host evil.example:PORT (DNS rebinding)', '/', { ...ok, host: `evil.example:${port}` }, 403],
      ['Host 127.0.0.1:OTHERPORT', '/', { ...ok, host: `127.0.0.1:${port + 1}` }, 403],
      ['Host without port', '/', { ...ok, host: '127.0.0.1' }, 403],
      ['Host evil.example with a valid token', '/?token=' + 'a'.repeat(64), { host: `evil.example:${port}` }, 403],
      ['valid cookie', '/', ok, 200],
      // a page on another local port can set a cookie of the same name that is sent first: it must not lock the user out
      ['a tossed cookie of the same name before the valid one', '/', { cookie: `${cookieName(port)}=x; ${cookie}` }, 200],
      ['valid cookie, own Origin', '/', { ...ok, origin }, 200],
      ['valid cookie, Host localhost:PORT', '/', { ...ok, host: `localhost:${port}` }, 200],
      ['Authorization: token', '/', { authorization: `token ${'a'.repeat(64)}` }, 200],
    ];
    for (const [name, p, headers, status] of cases) {
      const r = await request(port, p, headers);
      assert.equal(r.status, status, name);
      if (status !== 200) assert.ok(!r.body.includes('<title>wb'), `${name}: no content leaks`);
    }
  });

  test('state-changing requests need the own Origin; the server only reads', async () => {
    assert.equal((await request(port, '/', { cookie }, 'POST')).status, 403);
    assert.equal((await request(port, '/', { cookie, origin: 'http://evil.example' }, 'POST')).status, 403);
    assert.equal((await request(port, '/', { cookie, origin }, 'POST')).status, 405);
  });

  test('static files carry a strict CSP and nosniff; no listing, no traversal', async () => {
    const r = await request(port, '/', { cookie });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /worker-src 'self' blob:/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(!csp.includes('unsafe-eval'));
    assert.ok(!/https?:\/\/(?!127\.0\.0\.1|localhost)/.test(csp), 'no remote origins');
    assert.ok(csp.includes(`ws://127.0.0.1:${port}/api`));
    const js = await request(port, '/assets/app.js', { cookie });
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.equal(js.body, 'console.log(1)');
    for (const [p, status] of [
      ['/assets/', 404], ['/assets', 404], ['/missing.js', 404],
      ['/../secret.txt', 403], ['/assets/../../secret.txt', 403], ['/%2e%2e/secret.txt', 403], ['/..%2fsecret.txt', 403],
      ['//etc/passwd', 403], ['/..%5csecret.txt', 400], ['/%00', 400], ['/%zz', 400], ['/link.txt', 403],
    ] as const) {
      const t = await request(port, p, { cookie });
      assert.equal(t.status, status, p);
      assert.ok(!t.body.includes('outside the root'), p);
    }
    assert.equal((await request(port, '/api', { cookie })).status, 426);
  });

  test('WebSocket upgrade refusal matrix', async () => {
    const api = '/api?token=' + 'a'.repeat(64);
    const ok = { origin };
    const cases: [string, string, Record<string, string>, number][] = [
      ['no token, no cookie', '/api', { origin }, 401],
      ['wrong token', '/api?token=' + 'b'.repeat(64), { origin }, 403],
      ['wrong token, valid cookie', '/api?token=' + 'b'.repeat(64), { origin, cookie }, 403],
      // cookies reach every port of 127.0.0.1: the session cookie alone must not open the API
      ['valid cookie, no token', '/api', { origin, cookie }, 401],
      ['foreign Origin', api, { ...ok, origin: 'http://evil.example' }, 403],
      ['null Origin', api, { ...ok, origin: 'null' }, 403],
      ['missing Origin', api, {}, 403],
      ['Host evil.example:PORT', api, { ...ok, host: `evil.example:${port}` }, 403],
      ['Host 127.0.0.1:OTHERPORT', api, { ...ok, host: `127.0.0.1:${port + 1}` }, 403],
      ['other path', '/other?token=' + 'a'.repeat(64), ok, 404],
      ['valid token', api, ok, 101],
      ['valid token by Authorization header', '/api', { origin, authorization: `token ${'a'.repeat(64)}` }, 101],
      ['localhost host and origin', api, { host: `localhost:${port}`, origin: `http://localhost:${port}` }, 101],
    ];
    for (const [name, p, headers, status] of cases) assert.equal(await upgrade(port, p, headers), status, name);
  });

  describe('WebSocket messages', () => {
    let ws: WebSocket;
    const inbox: unknown[] = [];
    const waiters: (() => void)[] = [];
    const next = async () => {
      while (inbox.length === 0) await new Promise<void>((r) => waiters.push(r));
      return inbox.shift() as Record<string, unknown>;
    };
    const open = () => new Promise<WebSocket>((resolve, reject) => {
      const s = new WebSocket(`ws://127.0.0.1:${port}/api?token=${'a'.repeat(64)}`, { origin });
      s.once('open', () => resolve(s));
      s.once('error', reject);
    });
    before(async () => {
      ws = await open();
      ws.on('message', (d) => { inbox.push(JSON.parse(String(d))); waiters.splice(0).forEach((w) => w()); });
    });
    after(() => ws.close());

    test('a call reaches the host with validated params and its result comes back', async () => {
      ws.send(JSON.stringify({ id: 1, method: 'experiments.recent', params: {} }));
      assert.deepEqual(await next(), { id: 1, result: ['/tmp/a.experiment.json'] });
      ws.send(JSON.stringify({ id: 2, method: 'experiments.create', params: { template: 'gpt-tiny' } }));
      assert.deepEqual(await next(), { id: 2, result: { method: 'experiments.create', params: { template: 'gpt-tiny' } } });
    });

    test('malformed messages get error responses and the connection lives on', async () => {
      const n = host.calls.length;
      const bad: [string | Buffer, number, string][] = [
        ['not json', -1, 'BAD_MESSAGE'],
        ['[]', -1, 'BAD_MESSAGE'],
        ['null', -1, 'BAD_MESSAGE'],
        [JSON.stringify({ id: 7, method: 'experiments.recent' , params: {}, extra: 1 }), 7, 'BAD_MESSAGE'],
        [JSON.stringify({ id: 8, method: 'nope', params: {} }), 8, 'UNKNOWN_COMMAND'],
        [JSON.stringify({ id: 9, method: '__proto__', params: {} }), 9, 'UNKNOWN_COMMAND'],
        [JSON.stringify({ id: 10, method: 'experiments.open', params: { path: '' } }), 10, 'BAD_MESSAGE'],
        [JSON.stringify({ id: 11, method: 'experiments.open', params: { path: 'x', evil: true } }), 11, 'BAD_MESSAGE'],
        [JSON.stringify({ id: 12, method: 'engine.restart', params: {} }), 12, 'BUSY'],
        [JSON.stringify({ id: 13, method: 'experiments.list', params: {} }), 13, 'INTERNAL'],
        [Buffer.from([1, 2, 3]), -1, 'BAD_MESSAGE'],
      ];
      for (const [msg, id, code] of bad) {
        ws.send(msg);
        const r = await next() as { id: number; error: { code: string; message: string } };
        assert.equal(r.id, id, String(msg));
        assert.equal(r.error.code, code, String(msg));
        assert.ok(r.error.message.length > 0);
      }
      assert.equal(host.calls.length, n + 2, 'only the two well-formed calls reached the host');
      ws.send(JSON.stringify({ id: 14, method: 'experiments.recent', params: {} }));
      assert.deepEqual(await next(), { id: 14, result: ['/tmp/a.experiment.json'] });
    });

    test('host events are pushed as WireEvents and unsubscribed when the socket closes', async () => {
      const status = { state: 'ready', pid: 1, backend: null, lastExit: null, restarts: 0 };
      host.emit('onEngineStatus', status);
      assert.deepEqual(await next(), { event: 'onEngineStatus', payload: status });
      const before = host.listenerCount();
      const extra = await open();
      for (let i = 0; i < 100 && host.listenerCount() === before; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(host.listenerCount() > before);
      await new Promise<void>((resolve) => { extra.once('close', () => resolve()); extra.close(); });
      for (let i = 0; i < 100 && host.listenerCount() !== before; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(host.listenerCount(), before);
    });

    test('a message over the size cap closes that socket (1009), and the server serves the next', async () => {
      const big = await open();
      const code = await new Promise<number>((resolve) => {
        big.once('close', (c) => resolve(c));
        big.on('error', () => undefined);
        big.send(JSON.stringify({ id: 1, method: 'experiments.recent', params: { pad: 'x'.repeat(100 * 1024) } }));
      });
      assert.equal(code, 1009);
      ws.send(JSON.stringify({ id: 15, method: 'experiments.recent', params: {} }));
      assert.deepEqual(await next(), { id: 15, result: ['/tmp/a.experiment.json'] });
    });
  });
});

describe('a client that stops reading', () => {
  /** a host whose every answer is `answerBytes` long and takes a moment (a file read), as experiments.open of a large file does */
  function bulkyHost(answerBytes: number): HostLike & { calls: number } {
    const h = {
      calls: 0,
      async call() { h.calls++; await new Promise((r) => setTimeout(r, 5)); return 'x'.repeat(answerBytes); },
      on: () => () => undefined,
      async dispose() {},
    };
    return h;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-server-bp-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** a connected client whose socket no longer reads: what the server sends piles up on the server's side */
  async function stalledClient(port: number): Promise<WebSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${'b'.repeat(64)}`, { origin: `http://127.0.0.1:${port}` });
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    (ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    return ws;
  }
  const call = (id: number) => JSON.stringify({ id, method: 'experiments.recent', params: {} });

  test('is closed once more than the bound waits for it, so the server\'s memory stays bounded', async () => {
    const logs: string[] = [];
    const host = bulkyHost(1024 * 1024);
    const srv = await createWorkbenchServer({ host, rendererDir: dir, token: 'b'.repeat(64), maxBufferedBytes: 8 * 1024 * 1024, maxInFlight: 1000, log: (l) => logs.push(l) });
    try {
      const ws = await stalledClient(srv.port);
      for (let id = 1; id <= 60; id++) ws.send(call(id));
      for (let i = 0; i < 200 && !logs.some((l) => l.includes('does not read')); i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(logs.some((l) => /closing a client that does not read: \d+ bytes unsent, more than the 8388608/.test(l)), logs.join('\n'));
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      (ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
      await closed;
      // answers wait their turn, and those still waiting when the client is closed are never made: 8 MiB of
      // 1 MiB answers (and the few MiB the kernel's socket buffers took) close it, 4 more may have been in the
      // making; far from the 60 asked for
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(host.calls < 30, `${host.calls} of 60 answers were made for a closed client`);
    } finally {
      await srv.close();
    }
  });

  test('bounds the bytes of the calls a connection has in flight: past maxInFlightBytes a call is answered BUSY, naming the figures', async () => {
    const release: (() => void)[] = [];
    const host: HostLike = {
      call: () => new Promise((resolve) => release.push(() => resolve({ path: '/tmp/a.experiment.json', mtimeMs: 1 }))),
      on: () => () => undefined,
      async dispose() {},
    };
    const srv = await createWorkbenchServer({ host, rendererDir: dir, token: 'b'.repeat(64), maxInFlightBytes: 1024 * 1024, maxAnswering: 8 });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api?token=${'b'.repeat(64)}`, { origin: `http://127.0.0.1:${srv.port}` });
      await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
      const answers: { id: number; result?: unknown; error?: { code: string; message: string } }[] = [];
      ws.on('message', (d) => answers.push(JSON.parse(String(d))));
      const bulky = (id: number) => JSON.stringify({ id, method: 'experiments.save', params: { path: '/tmp/a.experiment.json', doc: { pad: 'x'.repeat(300 * 1024) } } });
      for (let id = 1; id <= 5; id++) ws.send(bulky(id));
      for (let i = 0; i < 200 && answers.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      // three calls of 300 KiB fit in 1 MiB; the fourth and fifth would not, and are answered at once
      assert.deepEqual(answers.map((a) => [a.id, a.error?.code]), [[4, 'BUSY'], [5, 'BUSY']]);
      assert.match(answers[0].error!.message, /hold 0\.9 MiB and this one 0\.3 MiB, more than the 1\.0 MiB a connection may have waiting; wait for answers/);
      assert.equal(release.length, 3);
      // once answers have left, the bytes are free again
      release.splice(0).forEach((r) => r());
      for (let i = 0; i < 200 && answers.length < 5; i++) await new Promise((r) => setTimeout(r, 10));
      ws.send(bulky(6));
      for (let i = 0; i < 200 && release.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
      release.splice(0).forEach((r) => r());
      for (let i = 0; i < 200 && answers.length < 6; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(answers.slice(2).map((a) => a.id), [1, 2, 3, 6], JSON.stringify(answers.slice(2)).slice(0, 500));
      assert.ok(answers.slice(2).every((a) => a.error === undefined));
      ws.close();
    } finally {
      await srv.close();
    }
  });

  test('answers at most maxAnswering calls of a connection at once; the others wait their turn and are answered in order', async () => {
    let now = 0;
    let most = 0;
    const host: HostLike = {
      async call(_method, params) {
        most = Math.max(most, ++now);
        await new Promise((r) => setTimeout(r, 5));
        now--;
        return params;
      },
      on: () => () => undefined,
      async dispose() {},
    };
    const srv = await createWorkbenchServer({ host, rendererDir: dir, token: 'b'.repeat(64), maxAnswering: 3 });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api?token=${'b'.repeat(64)}`, { origin: `http://127.0.0.1:${srv.port}` });
      await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
      const ids: number[] = [];
      const all = new Promise<void>((resolve) => ws.on('message', (d) => { ids.push(JSON.parse(String(d)).id); if (ids.length === 30) resolve(); }));
      for (let id = 1; id <= 30; id++) ws.send(JSON.stringify({ id, method: 'experiments.recent', params: {} }));
      await all;
      ws.close();
      assert.equal(most, 3);
      assert.deepEqual(ids, Array.from({ length: 30 }, (_, i) => i + 1));
    } finally {
      await srv.close();
    }
  });
});
