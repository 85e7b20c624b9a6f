import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkbenchEvent } from '../../common/workbenchApi';
import type { HostLike } from '../hostLike';
import { CALL_CHANNEL, EVENT_CHANNEL, registerIpc, type IpcMainLike } from './ipc';
import { createBridgeApi, type IpcRendererLike } from './preloadApi';
import { APP_URL, type IpcEventLike } from './security';

/** The two ends of Electron's IPC joined in one process: ipcMain.handle ↔ ipcRenderer.invoke, webContents.send ↔ ipcRenderer.on. */
function wiring(answer: (method: string, params: unknown) => unknown) {
  const calls: { method: string; params: unknown }[] = [];
  const hostListeners = new Map<string, Set<(p: unknown) => void>>();
  const host: HostLike = {
    async call(method, params) { calls.push({ method, params }); return answer(method, params); },
    on(event, l) { const s = hostListeners.get(event) ?? new Set(); hostListeners.set(event, s); s.add(l); return () => s.delete(l); },
    async dispose() {},
  };
  const emit = (event: WorkbenchEvent, payload: unknown) => hostListeners.get(event)?.forEach((l) => l(payload));
  const handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>>();
  const ipcMain: IpcMainLike = { handle: (c, l) => { handlers.set(c, l); }, removeHandler: (c) => { handlers.delete(c); } };
  const rendererListeners = new Set<(e: unknown, ...a: unknown[]) => void>();
  const mainFrame = { url: APP_URL, parent: null };
  const webContents = { mainFrame, send: (channel: string, msg: unknown) => { if (channel === EVENT_CHANNEL) rendererListeners.forEach((l) => l({ sender: 'ipcRendererEvent' }, msg)); } };
  const win = { isDestroyed: () => false, webContents };
  const bridge = registerIpc({ ipcMain, host, getWindow: () => win });
  let frame: IpcEventLike['senderFrame'] = mainFrame;
  const ipcRenderer: IpcRendererLike = {
    invoke: async (channel, ...args) => handlers.get(channel)!({ sender: webContents, senderFrame: frame }, ...args),
    on: (_c, l) => rendererListeners.add(l),
    removeListener: (_c, l) => rendererListeners.delete(l),
  };
  return { calls, host, emit, handlers, bridge, api: createBridgeApi(ipcRenderer), setFrame: (f: IpcEventLike['senderFrame']) => { frame = f; }, mainFrame, webContents, hostListeners };
}

const STATUS = { state: 'ready', pid: 42, backend: null, lastExit: null, restarts: 0 } as const;

test('a call crosses preload → main → host and its validated result comes back', async () => {
  const w = wiring((m) => (m === 'engine.status' ? STATUS : ['/a.experiment.json']));
  assert.deepEqual(await w.api.call('engine.status', {}), STATUS);
  assert.deepEqual(await w.api.call('experiments.recent', {}), ['/a.experiment.json']);
  assert.deepEqual(w.calls.map((c) => c.method), ['engine.status', 'experiments.recent']);
});

test('bad params are refused in the preload, before anything is sent', async () => {
  const w = wiring(() => null);
  await assert.rejects(w.api.call('experiments.open', { path: '' }), (e: { code: string }) => e.code === 'BAD_MESSAGE');
  await assert.rejects(w.api.call('nope' as 'engine.status', {}), (e: { code: string; name: string }) => e.code === 'UNKNOWN_COMMAND' && e.name === 'EngineError');
  assert.equal(w.calls.length, 0);
});

test('host errors keep their code across the bridge; a result off the API is refused', async () => {
  const w = wiring((m) => {
    if (m === 'engine.restart') throw Object.assign(new Error('a job is running'), { code: 'BUSY' });
    return { state: 'flying' };
  });
  await assert.rejects(w.api.call('engine.restart', {}), (e: { code: string; message: string }) => e.code === 'BUSY' && e.message === 'a job is running');
  await assert.rejects(w.api.call('engine.status', {}), (e: { code: string; message: string }) => e.code === 'INTERNAL' && /does not match the API/.test(e.message));
});

test('the main side refuses senders other than our window\'s main frame, and malformed calls', async () => {
  const w = wiring(() => STATUS);
  const handle = w.handlers.get(CALL_CHANNEL)!;
  w.setFrame({ url: APP_URL, parent: w.mainFrame });
  await assert.rejects(w.api.call('engine.status', {}), (e: { message: string }) => /does not come from the workbench window/.test(e.message));
  w.setFrame(null);
  await assert.rejects(w.api.call('engine.status', {}));
  w.setFrame(w.mainFrame);
  const ev = { sender: w.webContents, senderFrame: w.mainFrame };
  for (const bad of [null, 'engine.status', [], { method: 5 }, { method: 'engine.status', params: { extra: 1 } }, { method: 'toString', params: {} }]) {
    const r = await handle(ev, bad) as { error?: { code: string } };
    assert.ok(r.error, JSON.stringify(bad));
  }
  assert.equal(w.calls.length, 0);
});

test('host events reach subscribers with their payload only; invalid payloads and other events are dropped', () => {
  const w = wiring(() => null);
  const got: unknown[] = [];
  const off = w.api.on('onEngineStatus', (p) => got.push(p));
  w.emit('onEngineStatus', STATUS);
  w.emit('onEngineStatus', { state: 'bogus' });
  w.emit('onMenuCommand', { command: 'experiment.new' });
  w.bridge.send('onEngineStatus', { ...STATUS, pid: 7 });
  assert.deepEqual(got, [STATUS, { ...STATUS, pid: 7 }]);
  off();
  w.emit('onEngineStatus', STATUS);
  assert.equal(got.length, 2);
  assert.throws(() => w.api.on('onNothing' as 'onEngineStatus', () => undefined));
  w.bridge.dispose();
  assert.equal(w.handlers.size, 0);
  assert.equal([...w.hostListeners.values()].reduce((n, s) => n + s.size, 0), 0);
});
