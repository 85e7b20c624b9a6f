import { after, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BackendInfo } from '../../common/backends';
import { RunJson } from '../../common/runFolder';
import { isTempName, removeStaleTemps, tempPathFor, writeFileAtomic, writeJsonAtomicSync } from '../../common/node/atomicWrite';
import { listRuns, readRunJson } from '../../common/node/runFiles';
import { RunFolder, newRunId } from './runFolder';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await fsp.rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'wb-runs-'));
  dirs.push(d);
  return d;
}

const backend: BackendInfo = { name: 'cpu', tfBackend: 'cpu', package: '@tensorflow/tfjs-backend-cpu', version: '4.22.0', device: 'test CPU', threads: 1 };
const config = { model: { arch: 'gpt', vocabSize: 65 }, pretrain: { steps: 100 } };

describe('atomic writes', () => {
  it('replace a file whole and leave no temporary behind', async () => {
    const dir = await tempDir();
    const f = path.join(dir, 'a.json');
    await writeFileAtomic(f, 'one');
    await writeFileAtomic(f, 'two');
    writeJsonAtomicSync(path.join(dir, 'b.json'), { x: 1 });
    assert.equal(await fsp.readFile(f, 'utf8'), 'two');
    assert.deepEqual((await fsp.readdir(dir)).sort(), ['a.json', 'b.json']);
  });

  it('clean up after themselves when the write fails', async () => {
    const dir = await tempDir();
    await assert.rejects(writeFileAtomic(path.join(dir, 'missing-folder', 'x'), 'y'), /ENOENT/);
    await fsp.mkdir(path.join(dir, 'target-is-a-folder'));
    await fsp.writeFile(path.join(dir, 'target-is-a-folder', 'keep'), '');
    await assert.rejects(writeFileAtomic(path.join(dir, 'target-is-a-folder'), 'y'));
    assert.deepEqual(await fsp.readdir(dir), ['target-is-a-folder']);
  });

  it('name temporaries so that listings can tell them apart, and removeStaleTemps deletes them', async () => {
    const dir = await tempDir();
    const t1 = tempPathFor(path.join(dir, 'run.json'));
    const t2 = tempPathFor(path.join(dir, 'step-00000001'));
    assert.ok(isTempName(path.basename(t1)) && isTempName(path.basename(t2)));
    assert.ok(!isTempName('run.json') && !isTempName('step-00000001') && !isTempName('.hidden'));
    await fsp.writeFile(t1, 'half');
    await fsp.mkdir(t2);
    await fsp.writeFile(path.join(t2, 'model.safetensors'), 'half');
    await fsp.writeFile(path.join(dir, 'run.json'), '{}');
    assert.equal((await removeStaleTemps(dir)).length, 2);
    assert.deepEqual(await fsp.readdir(dir), ['run.json']);
  });
});

describe('run folders', () => {
  it('are created with a run.json that describes the run', async () => {
    const runsDir = path.join(await tempDir(), 'tiny.runs');
    const run = await RunFolder.create(runsDir, { name: 'first try', config, backend, seed: 1234 });
    assert.match(run.id, /^\d{8}-\d{6}-[a-z0-9]{4}$/);
    assert.equal(run.dir, path.join(runsDir, run.id));
    const json = await readRunJson(run.dir);
    assert.equal(RunJson.parse(json).status, 'running');
    assert.deepEqual([json.name, json.seed, json.step, json.tokensSeen, json.bestValLoss, json.lastCheckpoint], ['first try', 1234, 0, 0, null, null]);
    assert.deepEqual(json.config, config);
    assert.deepEqual(json.backend, backend);
    assert.ok((await fsp.stat(run.checkpointsDir)).isDirectory());
  });

  it('take updates in order and refuse invalid ones without writing', async () => {
    const runsDir = await tempDir();
    const run = await RunFolder.create(runsDir, { name: 'r', config, backend, seed: 1, id: 'run-a' });
    const writes = [];
    for (let s = 1; s <= 20; s++) writes.push(run.update({ step: s, tokensSeen: s * 64 }));
    await Promise.all(writes);
    await run.update({ lastCheckpoint: 'step-00000020', bestValLoss: 1.5 });
    await run.setStatus('failed', { code: 'INTERNAL', message: 'out of memory' });
    const json = await readRunJson(run.dir);
    assert.deepEqual([json.step, json.tokensSeen, json.lastCheckpoint, json.status, json.error?.message], [20, 1280, 'step-00000020', 'failed', 'out of memory']);
    await assert.rejects(run.update({ step: -1 }), /run\.json: refused an update .*step/);
    await assert.rejects(run.update({ lastCheckpoint: 'latest' }), /lastCheckpoint/);
    assert.equal((await readRunJson(run.dir)).step, 20);
    assert.equal(run.json.step, 20);
    run.updateSync({ status: 'interrupted' });
    assert.equal((await readRunJson(run.dir)).status, 'interrupted');
    assert.deepEqual((await fsp.readdir(run.dir)).sort(), ['checkpoints', 'run.json', 'run.lock']);
  });

  it('refuse an id that exists or is not a safe folder name', async () => {
    const runsDir = await tempDir();
    await RunFolder.create(runsDir, { name: 'r', config, backend, seed: 1, id: 'same' });
    await assert.rejects(RunFolder.create(runsDir, { name: 'r', config, backend, seed: 1, id: 'same' }), /same: already exists/);
    await assert.rejects(RunFolder.create(runsDir, { name: 'r', config, backend, seed: 1, id: '../escape' }), /run id '..\/escape'/);
  });

  it('are listed with unreadable ones reported, not fatal', async () => {
    const runsDir = await tempDir();
    const a = await RunFolder.create(runsDir, { name: 'a', config, backend, seed: 1, id: newRunId(new Date('2024-01-01T00:00:00Z')) });
    const b = await RunFolder.create(runsDir, { name: 'b', config, backend, seed: 2, id: newRunId(new Date('2024-01-02T00:00:00Z')) });
    await b.setStatus('completed');
    await fsp.mkdir(path.join(runsDir, 'no-run-json'));
    await fsp.mkdir(path.join(runsDir, 'broken'));
    await fsp.writeFile(path.join(runsDir, 'broken', 'run.json'), '{"format": "transformer-workbench.run", "version": 1, "id": "broken"');
    await fsp.mkdir(path.join(runsDir, 'invalid'));
    await fsp.writeFile(path.join(runsDir, 'invalid', 'run.json'), JSON.stringify({ ...a.json, id: 'invalid', status: 'exploded' }));
    await fsp.mkdir(path.join(runsDir, 'newer'));
    await fsp.writeFile(path.join(runsDir, 'newer', 'run.json'), JSON.stringify({ ...a.json, id: 'newer', version: 2 }));
    await fsp.mkdir(path.join(runsDir, 'moved'));
    await fsp.writeFile(path.join(runsDir, 'moved', 'run.json'), JSON.stringify(a.json));
    await fsp.writeFile(path.join(runsDir, 'notes.txt'), 'not a run');

    const list = await listRuns(runsDir);
    const byId = Object.fromEntries(list.map((r) => [r.id, r]));
    assert.deepEqual(list.map((r) => r.id), [a.id, b.id, 'broken', 'invalid', 'moved', 'newer', 'no-run-json']);
    assert.equal(byId[a.id].ok && byId[a.id].ok && (byId[a.id] as { run: RunJson }).run.name, 'a');
    assert.equal((byId[b.id] as { run: RunJson }).run.status, 'completed');
    const problem = (id: string) => (byId[id] as { problem: string }).problem;
    assert.match(problem('broken'), /broken\/run\.json: is not valid JSON/);
    assert.match(problem('invalid'), /invalid\/run\.json: does not match the run format: status: /);
    assert.match(problem('newer'), /newer Transformer Workbench \(run format 2/);
    assert.match(problem('moved'), /names run '.*' but lies in folder 'moved'/);
    assert.match(problem('no-run-json'), /no-run-json\/run\.json: missing/);
    assert.deepEqual(await listRuns(path.join(runsDir, 'absent')), []);
  });

  it('are listed as interrupted when run.json says running but no live process holds the run', async () => {
    const runsDir = await tempDir();
    const live = await RunFolder.create(runsDir, { name: 'live', config, backend, seed: 1, id: 'live' });
    const killed = await RunFolder.create(runsDir, { name: 'killed', config, backend, seed: 1, id: 'killed' });
    // what a SIGKILL leaves: run.json still 'running', and a lock naming a process that is gone
    killed.closeSync();
    await fsp.writeFile(path.join(runsDir, 'killed', 'run.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), since: new Date().toISOString() }));
    const status = async () => Object.fromEntries((await listRuns(runsDir)).map((r) => [r.id, r.ok ? r.run.status : r.problem]));
    assert.deepEqual(await status(), { killed: 'interrupted', live: 'running' });
    await live.close(); // closed without a final status: nobody trains it any more
    assert.deepEqual(await status(), { killed: 'interrupted', live: 'interrupted' });
    assert.equal((await readRunJson(path.join(runsDir, 'killed'))).status, 'running', 'listing reads, it does not write');
  });

  it('open again for a resume, cleaning temporaries a crash left', async () => {
    const runsDir = await tempDir();
    const run = await RunFolder.create(runsDir, { name: 'r', config, backend, seed: 1, id: 'r1' });
    await fsp.writeFile(tempPathFor(path.join(run.dir, 'run.json')), '{"half');
    await run.close();
    const again = await RunFolder.open(run.dir);
    assert.equal(again.json.id, 'r1');
    assert.deepEqual((await fsp.readdir(run.dir)).sort(), ['checkpoints', 'run.json', 'run.lock']);
    await again.close();
    assert.deepEqual((await fsp.readdir(run.dir)).sort(), ['checkpoints', 'run.json'], 'close gives the lock up');
    await assert.rejects(RunFolder.open(path.join(runsDir, 'nope')), /nope\/run\.json: missing/);
  });

  it('has one writer: a second open is refused while the first holds the run, here or in a live process; a dead holder\'s lock is taken over', async () => {
    const runsDir = await tempDir();
    const run = await RunFolder.create(runsDir, { name: 'r', config, backend, seed: 1, id: 'locked' });
    await assert.rejects(RunFolder.open(run.dir), (e: Error & { code?: string }) => e.code === 'BUSY' && new RegExp(`being trained by process ${process.pid}`).test(e.message));
    await run.close();

    // another live process holds it
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await fsp.writeFile(path.join(run.dir, 'run.lock'), JSON.stringify({ pid: holder.pid, host: os.hostname(), since: '2026-01-01T00:00:00Z' }));
      await assert.rejects(RunFolder.open(run.dir), new RegExp(`process ${holder.pid} on ${os.hostname()}.*delete .*run\\.lock`));
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    // its process is gone (killed): the lock is stale and the run opens
    const taken = await RunFolder.open(run.dir);
    assert.equal(JSON.parse(await fsp.readFile(path.join(run.dir, 'run.lock'), 'utf8')).pid, process.pid);
    await taken.close();
    // a lock torn by a crash while it was written is stale too
    await fsp.writeFile(path.join(run.dir, 'run.lock'), '{"pid": 12');
    await (await RunFolder.open(run.dir)).close();
  });
});
