/**
 * Fault probe (c), `npm run test:faults`: browser mode as a real process (electron/server/main.ts) and a client
 * that never reads. It opens the API socket with the token, stops reading, and asks 40 times for a 14 MB
 * experiment file: answers pile up in the server, unsent. The server must close that client and its resident
 * memory must stay under PEAK_MIB at its peak (VmHWM); a normal client must still be served afterwards.
 * Before backpressure the same 40 calls took the server from 69 MB to 1,453 MB.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { processMemory, toMiB } from '../../common/node/processMemory';

/**
 * Peak resident memory of the server process: its own ~100 MiB, at most 64 MiB unsent per connection, at most 4
 * answers in the making per connection (each holds ~5 copies of the file while it is read, parsed, checked,
 * serialized and framed: ~70 MB here), and what the garbage collector has not yet taken back. Measured on 2 cores:
 * 380–460 MiB; without the 4-answer turn limit 1,982 MiB, growing with every call.
 */
const PEAK_MIB = 550;
const CALLS = 40;
/** notes cells of 1,000,000 characters (the most one holds): the file is 14 MB */
const NOTES_CELLS = 14;

const root = path.resolve(import.meta.dirname, '../..');
let workspace: string;
let server: ChildProcess;
let serverLog = '';
let port: number;
let token: string;

before(async () => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-slow-client-'));
  const notes = Array.from({ length: NOTES_CELLS }, (_, i) => ({ id: `n${i}`, kind: 'notes', markdown: `${i} `.padEnd(1_000_000, 'lorem ipsum ') }));
  fs.writeFileSync(path.join(workspace, 'big.experiment.json'), JSON.stringify({ format: 'transformer-workbench.experiment', version: 2, name: 'big', cells: notes }));
  server = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'electron/server/main.ts'), '--port', '0', '--workspace', workspace, '--no-open'], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
    // the server says when it closes a client, and why, only when asked to log
    env: { ...process.env, WORKBENCH_DEBUG: '1', WORKBENCH_NO_BROWSER: '1', XDG_CONFIG_HOME: path.join(workspace, 'config') },
  });
  server.stderr!.setEncoding('utf8').on('data', (d: string) => { serverLog = (serverLog + d).slice(-20_000); });
  const url = await new Promise<URL>((resolve, reject) => {
    let out = '';
    server.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(out);
      if (m) resolve(new URL(m[0]));
    });
    server.once('exit', (code) => reject(new Error(`the server exited (${code}) before printing its URL: ${serverLog}`)));
  });
  port = Number(url.port);
  token = url.searchParams.get('token')!;
});

after(async () => {
  if (server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
  fs.rmSync(workspace, { recursive: true, force: true });
});

async function connect(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`, { origin: `http://127.0.0.1:${port}` });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return ws;
}

const openBig = (id: number) => JSON.stringify({ id, method: 'experiments.open', params: { path: 'big.experiment.json' } });

async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\nserver log:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it(`a client that never reads is closed, and the server stays under ${PEAK_MIB} MiB while ${CALLS} answers of 14 MB wait for it`, async (t) => {
  const pid = server.pid!;
  const before = processMemory(pid);
  let rssMax = before.rssBytes;
  const poll = setInterval(() => { rssMax = Math.max(rssMax, processMemory(pid).rssBytes); }, 25);
  try {
    const slow = await connect();
    let closed = false;
    slow.on('close', () => { closed = true; });
    slow.on('error', () => undefined); // a reset is one way the server may end it
    slow.pause(); // nothing more is read from the socket: the server's answers queue up
    for (let i = 1; i <= CALLS; i++) slow.send(openBig(i));
    await until(() => serverLog.includes('closing a client that does not read'), 120_000, 'the server to close the client that does not read');
    slow.resume(); // whatever the kernel still held is read, then the close shows
    await until(() => closed, 30_000, 'the connection to close');

    // the next client is served as if nothing happened
    const normal = await connect();
    const answer = await new Promise<{ id: number; result?: { doc: { cells: unknown[] } }; error?: unknown }>((resolve) => {
      normal.once('message', (d) => resolve(JSON.parse(String(d))));
      normal.send(openBig(1));
    });
    normal.close();
    assert.equal(answer.id, 1);
    assert.equal(answer.result?.doc.cells.length, NOTES_CELLS, JSON.stringify(answer.error));
  } finally {
    clearInterval(poll);
  }
  const peakMiB = toMiB(processMemory(pid).peakBytes);
  t.diagnostic(`browser-mode server, ${CALLS} × experiments.open of a ${(fs.statSync(path.join(workspace, 'big.experiment.json')).size / 1e6).toFixed(1)} MB file to a client that never reads: resident ${toMiB(before.rssBytes).toFixed(0)} MiB before, peak ${peakMiB.toFixed(0)} MiB (VmHWM; highest sampled ${toMiB(rssMax).toFixed(0)} MiB), bound ${PEAK_MIB} MiB; the client was closed and the next one served`);
  assert.ok(peakMiB <= PEAK_MIB, `server peak ${peakMiB.toFixed(0)} MiB is over ${PEAK_MIB} MiB`);
});
