import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('the bundled preload requires only electron and exposes exactly workbench { call, on }', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-preload-'));
  try {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-preload.mjs'), out], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const code = fs.readFileSync(path.join(out, 'preload.cjs'), 'utf8');
    const required = [...code.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(required)], ['electron'], 'a sandboxed preload can require electron only');

    // Run it as Electron would, with the two modules it touches faked.
    const exposed: Record<string, unknown> = {};
    const invoked: unknown[][] = [];
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => { exposed[key] = api; } },
      ipcRenderer: {
        invoke: async (...a: unknown[]) => { invoked.push(a); return { result: ['/a.experiment.json'] }; },
        on: () => undefined,
        removeListener: () => undefined,
      },
    };
    const sandbox = { require: (m: string) => { if (m !== 'electron') throw new Error(`require(${m})`); return electron; }, module: { exports: {} }, exports: {}, console };
    vm.runInNewContext(code, sandbox, { filename: 'preload.cjs' });
    assert.deepEqual(Object.keys(exposed), ['workbench']);
    const api = exposed.workbench as { call(m: string, p: unknown): Promise<unknown>; on(e: string, l: () => void): () => void };
    assert.deepEqual(Object.keys(api).sort(), ['call', 'on']);
    assert.equal(JSON.stringify(await api.call('experiments.recent', {})), '["/a.experiment.json"]'); // another realm's array
    assert.equal(JSON.stringify(invoked), JSON.stringify([['workbench:call', { method: 'experiments.recent', params: {} }]]));
    await assert.rejects(api.call('experiments.open', { path: 5 }), (e: { code: string }) => e.code === 'BAD_MESSAGE');
    assert.equal(typeof api.on('onEngineStatus', () => undefined), 'function');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
