/**
 * The supervisor with real processes: the engine killed while idle is restarted on its own once; a
 * program that dies at every start is tried twice and then left crashed (no restart loop) with its exit in
 * words; requests to a dead engine are refused with an EngineError, never thrown at the host.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineError } from '../../common/errors';
import type { EngineStatus } from '../../common/workbenchApi';
import { EngineSupervisor, describeExit, nodeForkEngine } from './engineSupervisor';

let tmp: string;

function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'supervisor-')); });
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

describe('EngineSupervisor', () => {
  it('restarts a killed engine on its own, once, and answers requests again', async () => {
    const sup = new EngineSupervisor({ restartBackoffMs: 50, fork: nodeForkEngine({ env: { XDG_CACHE_HOME: path.join(tmp, 'cache') } }) });
    const seen: EngineStatus[] = [];
    sup.on((e) => { if (e.type === 'status') seen.push(e.status); });
    await sup.start();
    const first = sup.getStatus();
    assert.equal(first.state, 'ready');
    assert.ok(first.backend, 'hello named the backend');
    process.kill(first.pid!, 'SIGKILL');
    await until('the automatic restart', () => seen.some((s) => s.state === 'crashed') && sup.getStatus().state === 'ready');
    const states = seen.map((s) => s.state);
    assert.deepEqual(states.slice(states.indexOf('crashed')), ['crashed', 'restarting', 'ready']);
    const now = sup.getStatus();
    assert.notEqual(now.pid, first.pid);
    assert.equal(now.restarts, 1);
    assert.match(now.lastExit ?? '', /SIGKILL/);
    const status = await sup.request((c) => c.request({ type: 'status' }));
    assert.deepEqual(status.jobs, []);
    await sup.dispose();
    assert.equal(sup.getStatus().state, 'stopped');
    await assert.rejects(sup.request((c) => c.request({ type: 'status' })), EngineError);
  });

  it('leaves an engine that dies at every start crashed after one automatic retry, and refuses requests in words', async () => {
    const entry = path.join(tmp, 'dies.mjs');
    fs.writeFileSync(entry, 'process.stderr.write("cannot load the backend\\n"); process.exit(3);\n');
    let forks = 0;
    const fork = nodeForkEngine({ execArgv: [] });
    const sup = new EngineSupervisor({ entry, restartBackoffMs: 20, fork: (e) => { forks++; return fork(e); } });
    await assert.rejects(sup.start(), (e: EngineError) => e instanceof EngineError && /exited with code 3/.test(e.message));
    await until('the retry', () => forks === 2 && sup.getStatus().state === 'crashed');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(forks, 2, 'no restart loop');
    const s = sup.getStatus();
    assert.equal(s.state, 'crashed');
    assert.match(s.lastExit ?? '', /exited with code 3; it last wrote: cannot load the backend/);
    await assert.rejects(sup.request((c) => c.request({ type: 'status' })), (e: EngineError) => /restart it/.test(e.message));
    await sup.dispose();
  });

  it('fails a job whose end the host cannot read, instead of leaving its caller waiting', async () => {
    // an engine that answers the protocol but ends every job with a result its schema refuses
    const entry = path.join(tmp, 'garbled.mjs');
    const backend = { name: 'cpu', tfBackend: 'cpu', package: 'fake', version: '0', device: 'none', threads: 1 };
    fs.writeFileSync(entry, `
      const send = (m) => process.send(m);
      send({ type: 'onReady', engineVersion: '0', protocolVersion: '1.0', pid: process.pid });
      process.on('message', (m) => {
        if (m.type === 'hello') send({ type: 'onReply', id: m.id, command: 'hello', result: { engineVersion: '0', protocolVersion: '1.0', backend: ${JSON.stringify(backend)}, availableBackends: ['cpu'] } });
        if (m.type === 'job.start') {
          send({ type: 'onReply', id: m.id, command: 'job.start', result: { jobId: m.jobId } });
          send({ type: 'onJobStarted', jobId: m.jobId, kind: m.job.kind, backend: null });
          send({ type: 'onJobDone', jobId: m.jobId, kind: m.job.kind, result: { not: 'a describe result' } });
        }
      });
    `);
    const sup = new EngineSupervisor({ entry, fork: nodeForkEngine({ execArgv: [] }) });
    const events: unknown[] = [];
    sup.on((e) => { if (e.type === 'event') events.push(e.event); });
    await sup.start();
    await sup.request((c) => c.request({ type: 'job.start', jobId: 'j1', job: { kind: 'model.describe', model: { arch: 'gpt', vocabSize: 10, contextLength: 4, dModel: 4, nHeads: 1, nLayers: 1 } } }));
    await until('the job to end', () => events.some((e) => (e as { jobId?: string }).jobId === 'j1' && (e as { type: string }).type === 'onJobFailed'), 10_000);
    const failed = events.find((e) => (e as { type: string }).type === 'onJobFailed') as { error: { message: string } };
    assert.match(failed.error.message, /the engine ended the job with a message the host could not read/);
    await sup.dispose();
  });

  it('says how an engine ended in words', () => {
    assert.match(describeExit(null, 'SIGKILL'), /killed \(SIGKILL\)/);
    assert.equal(describeExit(3, null), 'the engine exited with code 3');
    assert.match(describeExit(null, 'SIGSEGV'), /signal SIGSEGV/);
  });
});
