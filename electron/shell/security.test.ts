import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { rendererCsp } from '../csp';
import { appProtocolResponse } from './appProtocol';
import {
  APP_URL, appCsp, denyPermissionCheck, denyPermissionRequest, denyWindowOpen, guardNavigation, hardenSession, hardenWebContents, isAppUrl,
  isTrustedSender, type FrameLike, type WebContentsLike,
} from './security';

const prevented = () => { const e = { prevented: false, preventDefault() { e.prevented = true; } }; return e; };

test('only the app\'s own URLs count as the app', () => {
  assert.ok(isAppUrl(APP_URL));
  assert.ok(isAppUrl('workbench://app/assets/x.js'));
  for (const u of ['https://evil.example/', 'file:///etc/passwd', 'workbench://evil/', 'workbench://user@app/', 'http://127.0.0.1:5173/', 'javascript:alert(1)', 'not a url', '']) {
    assert.ok(!isAppUrl(u), u);
  }
});

test('navigation away from the app is prevented; new windows are denied', () => {
  const inside = prevented();
  assert.equal(guardNavigation(inside, 'workbench://app/index.html'), true);
  assert.equal(inside.prevented, false);
  for (const u of ['https://evil.example/', 'file:///etc/passwd', 'data:text/html,hi']) {
    const e = prevented();
    assert.equal(guardNavigation(e, u), false);
    assert.equal(e.prevented, true, u);
  }
  assert.deepEqual(denyWindowOpen({ url: 'https://example.com' }), { action: 'deny' });
  assert.deepEqual(denyWindowOpen({ url: APP_URL }), { action: 'deny' });
});

test('every webContents gets the navigation, webview and window-open guards', () => {
  const handlers = new Map<string, (event: { preventDefault(): void; url?: string }, url?: string) => void>();
  let openHandler: ((d: { url: string }) => { action: string }) | null = null;
  const contents = {
    on(name: string, l: (event: { preventDefault(): void; url?: string }, url?: string) => void) { handlers.set(name, l); return contents; },
    setWindowOpenHandler(h: (d: { url: string }) => { action: string }) { openHandler = h; },
  } as unknown as WebContentsLike;
  hardenWebContents(contents);
  for (const name of ['will-navigate', 'will-redirect', 'will-frame-navigate']) {
    const e = Object.assign(prevented(), { url: 'https://evil.example/' });
    handlers.get(name)!(e);
    assert.equal(e.prevented, true, name);
    const legacy = prevented();
    handlers.get(name)!(legacy, 'https://evil.example/');
    assert.equal(legacy.prevented, true, `${name} (url as second argument)`);
  }
  const wv = prevented();
  handlers.get('will-attach-webview')!(wv);
  assert.equal(wv.prevented, true);
  assert.deepEqual(openHandler!({ url: 'https://x.example' }), { action: 'deny' });
});

test('every permission request and check is refused', () => {
  for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'unknown']) {
    let granted: boolean | null = null;
    denyPermissionRequest({}, p, (g) => { granted = g; });
    assert.equal(granted, false, p);
  }
  assert.equal(denyPermissionCheck(), false);
  const set: string[] = [];
  hardenSession({ setPermissionRequestHandler: (h) => set.push(h.name), setPermissionCheckHandler: (h) => set.push(h.name) });
  assert.deepEqual(set, ['denyPermissionRequest', 'denyPermissionCheck']);
});

test('IPC is answered only for the main frame of our window showing the app', () => {
  const mainFrame: FrameLike = { url: APP_URL, parent: null };
  const webContents = { mainFrame };
  let destroyed = false;
  const win = { isDestroyed: () => destroyed, webContents };
  assert.equal(isTrustedSender({ sender: webContents, senderFrame: mainFrame }, win), true);
  const iframe: FrameLike = { url: APP_URL, parent: mainFrame };
  assert.equal(isTrustedSender({ sender: webContents, senderFrame: iframe }, win), false, 'a subframe');
  assert.equal(isTrustedSender({ sender: {}, senderFrame: mainFrame }, win), false, 'another webContents');
  assert.equal(isTrustedSender({ sender: webContents, senderFrame: null }, win), false, 'a destroyed or navigated frame');
  assert.equal(isTrustedSender({ sender: webContents, senderFrame: mainFrame }, null), false, 'no window');
  // the same webContents and frame through other wrapper objects, as Electron may hand them out
  const byId = { isDestroyed: () => false, webContents: { id: 3, mainFrame: { url: APP_URL, parent: null, processId: 5, routingId: 1 } } };
  assert.equal(isTrustedSender({ sender: { id: 3 }, senderFrame: { url: APP_URL, parent: null, processId: 5, routingId: 1 } }, byId), true);
  assert.equal(isTrustedSender({ sender: { id: 4 }, senderFrame: { url: APP_URL, parent: null, processId: 5, routingId: 1 } }, byId), false, 'another webContents id');
  assert.equal(isTrustedSender({ sender: { id: 3 }, senderFrame: { url: APP_URL, parent: null, processId: 5, routingId: 2 } }, byId), false, 'another frame');
  assert.equal(isTrustedSender({ sender: { id: 3 }, senderFrame: { url: APP_URL, parent: null } }, byId), false, 'a frame without ids is not assumed equal');
  mainFrame.url = 'https://evil.example/';
  assert.equal(isTrustedSender({ sender: webContents, senderFrame: mainFrame }, win), false, 'navigated away');
  mainFrame.url = APP_URL;
  destroyed = true;
  assert.equal(isTrustedSender({ sender: webContents, senderFrame: mainFrame }, win), false, 'window destroyed');
});

test('the app protocol serves the renderer with a CSP that allows nothing remote', () => {
  const csp = appCsp();
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /connect-src 'self'(;|$)/);
  assert.ok(!csp.includes('unsafe-eval') && !/https?:|ws:/.test(csp));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-app-'));
  try {
    const root = path.join(dir, 'renderer');
    fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html>');
    fs.writeFileSync(path.join(root, 'assets', 'a.css'), 'body{}');
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    const index = appProtocolResponse(root, 'workbench://app/index.html');
    assert.equal(index.status, 200);
    assert.equal(index.headers['Content-Security-Policy'], csp);
    assert.equal(index.headers['X-Content-Type-Options'], 'nosniff');
    assert.ok('file' in index && index.file.endsWith('index.html'));
    assert.equal(appProtocolResponse(root, 'workbench://app/').status, 200);
    assert.equal(appProtocolResponse(root, 'workbench://app/assets/a.css').headers['Content-Type'], 'text/css; charset=utf-8');
    assert.equal(appProtocolResponse(root, 'workbench://app/assets/').status, 404);
    assert.equal(appProtocolResponse(root, 'workbench://app/%2e%2e/secret.txt').status, 404, 'normalized by URL parsing to /secret.txt');
    assert.equal(appProtocolResponse(root, 'workbench://app/..%2fsecret.txt').status, 403);
    assert.equal(appProtocolResponse(root, 'workbench://evil/index.html').status, 403);
    assert.equal(appProtocolResponse(root, 'workbench://app/index.html', 'POST').status, 405);
    assert.equal(appProtocolResponse(path.join(dir, 'missing'), 'workbench://app/index.html').status, 503);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the built page\'s <meta> policy (vite.config.ts) is the header\'s, less what a <meta> cannot say', () => {
  const header = rendererCsp().split('; ');
  const meta = rendererCsp({ meta: true }).split('; ');
  assert.deepEqual(meta, header.filter((d) => !d.startsWith('frame-ancestors')));
  assert.ok(!/\bwss?:/.test(meta.join('; ')), 'no socket to any host: connect-src is the page\'s own origin');
});
