import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { parseArgs, startBrowserMode } from './main';
import { browserCommand, openBrowser } from './openBrowser';

test('browser mode end to end: the real host behind the server answers over the WebSocket', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-browser-'));
  const { server, stop } = await startBrowserMode({ workspaceRoot: dir, rendererDir: path.join(dir, 'no-renderer'), port: 0 });
  try {
    assert.equal((server.server.address() as { address: string }).address, '127.0.0.1');
    // first load: token → cookie for the page, and the token in the fragment for its API socket
    const { cookie, token } = await new Promise<{ cookie: string; token: string }>((resolve, reject) => {
      http.get(server.url, (res) => {
        res.resume();
        assert.equal(res.statusCode, 302);
        resolve({ cookie: String(res.headers['set-cookie']).split(';')[0], token: String(res.headers.location).split('#token=')[1] });
      }).on('error', reject);
    });
    const page = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: server.port, path: '/', headers: { cookie } }, (res) => {
        let body = '';
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    assert.equal(page.status, 503, 'an unbuilt renderer is explained, not listed');
    assert.match(page.body, /npm run build:renderer/);

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${token}`, { origin: `http://127.0.0.1:${server.port}` });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const replies = new Map<number, (v: Record<string, unknown>) => void>();
    ws.on('message', (d) => { const m = JSON.parse(String(d)); if ('id' in m) replies.get(m.id)?.(m); });
    let nextId = 1;
    const call = (method: string, params: unknown) => new Promise<Record<string, unknown>>((resolve) => {
      const id = nextId++;
      replies.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
    const templates = await call('experiments.templates', {}) as { result: { id: string }[] };
    assert.ok(templates.result.length >= 1, JSON.stringify(templates));
    const outside = await call('experiments.open', { path: '/etc/passwd' }) as { error: { code: string; message: string } };
    assert.ok(outside.error, 'a path outside the workspace is refused');
    const status = await call('engine.status', {}) as { result: { state: string } };
    assert.ok(['starting', 'ready'].includes(status.result.state));
    ws.close();
  } finally {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('browser-mode arguments and browser opening', () => {
  assert.deepEqual(parseArgs([]), { open: true });
  assert.deepEqual(parseArgs(['--port', '8888', '--workspace', '/w', '--no-open']), { open: false, port: 8888, workspaceRoot: '/w' });
  assert.throws(() => parseArgs(['--port', 'x']));
  assert.throws(() => parseArgs(['--host', '0.0.0.0']), /unknown/);
  assert.equal(browserCommand('linux', { PATH: '/usr/bin' }), null, 'no display: skipped quietly');
  assert.equal(browserCommand('linux', { DISPLAY: ':0', PATH: '/nonexistent' }), null, 'no xdg-open: skipped quietly');
  assert.equal(browserCommand('darwin', { WORKBENCH_NO_BROWSER: '1' }), null);
  assert.deepEqual(browserCommand('darwin', {}), { cmd: 'open', args: [] });
});

test('the browser is handed a file only this user can read, never the tokenized URL on a command line', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-open-'));
  try {
    // a stand-in xdg-open, found on PATH as the real one would be, that records its command line
    const argsFile = path.join(dir, 'args.txt');
    fs.writeFileSync(path.join(dir, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$*" > '${argsFile}'\n`, { mode: 0o755 });
    const url = `http://127.0.0.1:1234/?token=${'f'.repeat(64)}`;
    assert.equal(openBrowser(url, 'linux', { PATH: dir, DISPLAY: ':99', TMPDIR: dir }), true);
    for (let i = 0; i < 200 && !fs.existsSync(argsFile); i++) await new Promise((r) => setTimeout(r, 10));
    const args = fs.readFileSync(argsFile, 'utf8');
    assert.doesNotMatch(args, /token|f{64}/, `the command line must not carry the token: ${args}`);
    const page = new URL(args).pathname;
    assert.equal(fs.statSync(page).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(page)).mode & 0o777, 0o700);
    assert.ok(fs.readFileSync(page, 'utf8').includes(`url=${url}`), 'the page redirects to the URL');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
