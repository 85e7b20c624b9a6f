/**
 * Fault probe (a), experiment files, `npm run test:faults`: a child process saves an experiment file over and over
 * through the host's writer (ExperimentFiles.save: validate, write a temporary, fsync, rename, fsync the folder,
 * then the recent list) and is killed with SIGKILL at KILLS seeded random moments, most of them inside a save.
 * After every kill the file must open through the host's reader as one whole save — never a mixture, never an
 * empty or half-written file — no older than the last save the child reported, and recent.json must parse.
 *
 * This file is also the child: run with WB_FAULTS_EXPERIMENT_FILE set, it saves instead of registering tests.
 * WB_FAULTS_SEED replays a schedule (the seed is printed).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isTempName } from '../../common/node/atomicWrite';
import { ExperimentFiles } from './experimentFiles';

const CHILD_ENV = 'WB_FAULTS_EXPERIMENT_FILE';
const KILLS = 20;
const SEED = Number(process.env.WB_FAULTS_SEED ?? Date.now() % 1_000_000);
/** per notes cell (at most 1,000,000), two cells: writing a save takes several milliseconds, in which kills can land */
const NOTES_CHARS = 1_000_000;

/** Save number `i`: its number in the name and throughout its notes, so that a mixture of two saves shows. */
function docOf(i: number): Record<string, unknown> {
  const markdown = `save ${i} `.repeat(NOTES_CHARS).slice(0, NOTES_CHARS);
  return {
    format: 'transformer-workbench.experiment', version: 2, name: `save ${i}`,
    cells: [{ id: 'a', kind: 'notes', markdown }, { id: 'b', kind: 'notes', markdown }],
  };
}

const filesIn = (dir: string) => new ExperimentFiles({ workspaceRoot: dir, configDir: path.join(dir, 'config') });

async function child(file: string): Promise<void> {
  const files = filesIn(path.dirname(file));
  let i = fs.existsSync(file) ? Number(/save (\d+)/.exec((await files.read(file)).experiment.name)![1]) : 0;
  for (;;) {
    i += 1;
    await files.save(file, docOf(i));
    process.send!({ saved: i });
  }
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (process.env[CHILD_ENV]) {
  await child(process.env[CHILD_ENV]);
} else {
  it(`SIGKILL at ${KILLS} random moments of experiment-file saves: the file always opens as one whole save`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-experiment-kills-'));
    const file = path.join(dir, 'notes.experiment.json');
    const rand = random(SEED);
    let lastSaved = 0;
    let saveMs = 10;
    let leftTemps = 0;
    let tempsBefore = 0;
    let unreported = 0;
    try {
      for (let k = 0; k < KILLS; k++) {
        const env: NodeJS.ProcessEnv = { ...process.env, [CHILD_ENV]: file };
        delete env.NODE_TEST_CONTEXT; // the child is not a test-runner child
        const proc = fork(import.meta.filename, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
        const exited = new Promise((resolve) => proc.on('exit', resolve));
        const saves: number[] = [];
        const times: number[] = [];
        const wanted = 1 + Math.floor(rand() * 3);
        await new Promise<void>((resolve) => {
          proc.on('message', (m: { saved: number }) => { saves.push(m.saved); times.push(performance.now()); if (saves.length === wanted) resolve(); });
          void exited.then(() => resolve());
        });
        if (times.length > 1) saveMs = (times.at(-1)! - times[0]) / (times.length - 1);
        // into the next save, past its checks and its read of the file it replaces, where the bytes are written
        await sleep((0.3 + 0.7 * rand()) * saveMs);
        assert.equal(proc.exitCode, null, `kill ${k} (seed ${SEED}): the writer died on its own`);
        proc.kill('SIGKILL');
        await exited;
        lastSaved = saves.at(-1) ?? lastSaved;

        const { experiment } = await filesIn(dir).read(file);
        const i = Number(/^save (\d+)$/.exec(experiment.name)?.[1]);
        assert.ok(i === lastSaved || i === lastSaved + 1, `kill ${k} (seed ${SEED}): the file holds save ${i}; the last reported was ${lastSaved}`);
        const notes = (d: { cells: unknown[] }) => d.cells.map((c) => (c as { markdown: string }).markdown);
        assert.deepEqual(notes(experiment), notes(docOf(i) as { cells: unknown[] }), `kill ${k}: save ${i}'s notes whole`);
        if (i === lastSaved + 1) unreported++;
        lastSaved = i;
        assert.deepEqual(await filesIn(dir).recent(), [file], `kill ${k}: recent.json parses and names the file`);
        const temps = [dir, path.join(dir, 'config')].flatMap((d) => fs.readdirSync(d)).filter(isTempName).length;
        if (temps > tempsBefore) leftTemps++;
        tempsBefore = temps;
      }
      assert.ok(leftTemps + unreported > 0, `some kills landed inside a save (seed ${SEED})`);
      t.diagnostic(`${KILLS} SIGKILLs of an experiment-file writer survived (seed ${SEED}): ${leftTemps} landed in a write (a temporary left beside the file or recent.json), ${unreported} after a rename the writer had not reported; ${lastSaved} saves of ${(fs.statSync(file).size / 1e6).toFixed(1)} MB, ~${saveMs.toFixed(0)} ms each; the file always opened as one whole save`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
