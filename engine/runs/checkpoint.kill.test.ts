/**
 * Crash safety of checkpoints, proved with real crashes: a child process writes checkpoints of a small
 * model back to back (with rotation and best/last pointers), and is killed with SIGKILL at random
 * moments, most of them inside a save. After every kill, every checkpoint left on disk must load and
 * hold exactly the values of its step, the pointers must name checkpoints that exist, temporaries must
 * not count as checkpoints, and the next child must resume from the newest one with identical state.
 *
 * This file is also the child: run with WB_KILL_CHILD_RUN_DIR set, it writes checkpoints instead of
 * registering tests.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// the plain CPU backend alone: no gradients are needed here, and a child that starts in half the time
// (without the whole @tensorflow/tfjs bundle) leaves room for more kills
import '@tensorflow/tfjs-backend-cpu';
import { createModel, type AnyModel } from '../models/registry';
import { AdamW, type AdamWState } from '../training/adamw';
import { isTempName } from '../../common/node/atomicWrite';
import {
  cleanCheckpointTemps, latestValidCheckpoint, listCheckpoints, loadCheckpoint, readPointer, restoreCheckpoint, saveCheckpoint,
  type LoadedCheckpoint,
} from './checkpoint';

const CHILD_ENV = 'WB_KILL_CHILD_RUN_DIR';
const CONFIG = { arch: 'gpt', vocabSize: 256, contextLength: 64, dModel: 96, nHeads: 4, nLayers: 2 } as const;
const SEED = 17;
const KEEP_LAST = 3;

// ---------------------------------------------------------------------------------------------------
// The state at each step is a pure function of the step, so that any process can say what a checkpoint
// of that step must hold, bit for bit.

interface Init { names: string[]; shapes: Record<string, number[]>; values: Record<string, Float32Array> }

async function initOf(model: AnyModel): Promise<Init> {
  const init: Init = { names: model.params.names, shapes: {}, values: {} };
  for (const [n, v] of model.variables) {
    init.shapes[n] = v.shape.slice();
    init.values[n] = Float32Array.from(await v.data());
  }
  return init;
}

function paramsAt(init: Init, step: number): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const n of init.names) {
    const x = init.values[n];
    const y = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = x[i] + step * 1e-3 * ((i % 7) - 3);
    out[n] = y;
  }
  return out;
}

function optimizerAt(init: Init, step: number): AdamWState {
  const state: AdamWState = { step, m: {}, v: {} };
  for (const n of init.names) {
    const len = init.values[n].length;
    const m = new Float32Array(len);
    const v = new Float32Array(len);
    for (let i = 0; i < len; i++) {
      m[i] = ((i % 11) - 5) * step * 1e-4;
      v[i] = ((i + step) % 13) * 1e-6;
    }
    state.m[n] = { shape: init.shapes[n], data: m };
    state.v[n] = { shape: init.shapes[n], data: v };
  }
  return state;
}

const rngAt = (step: number) => ({ sampler: Math.imul(step, 2654435761) >>> 0 });
const dataAt = (step: number) => ({ epoch: Math.floor(step / 50), index: (step * 7) % 350 });
const lossAt = (step: number) => 3 / (1 + step) + (step % 4) * 0.05;

/** Asserts that a loaded checkpoint holds exactly the state of its step. */
function assertStateOf(ck: LoadedCheckpoint, init: Init): void {
  const step = ck.manifest.step;
  const params = paramsAt(init, step);
  const opt = optimizerAt(init, step);
  assert.deepEqual([...ck.params.keys()], init.names, `${ck.name}: parameter names`);
  for (const n of init.names) {
    assert.deepEqual(ck.params.get(n)!.data, params[n], `${ck.name}: ${n}`);
    assert.deepEqual(ck.optimizer!.m[n].data, opt.m[n].data, `${ck.name}: optimizer.m.${n}`);
    assert.deepEqual(ck.optimizer!.v[n].data, opt.v[n].data, `${ck.name}: optimizer.v.${n}`);
  }
  assert.equal(ck.optimizer!.step, step);
  assert.deepEqual([ck.manifest.rng, ck.manifest.dataPosition, ck.manifest.valLoss], [rngAt(step), dataAt(step), lossAt(step)], `${ck.name}: rng, data position, loss`);
}

/** Restores into a fresh model and optimizer and compares what they then hold with the state of the step. */
async function assertRestores(ck: LoadedCheckpoint, init: Init): Promise<void> {
  const model = createModel(CONFIG, SEED + 1); // other initial values: everything must come from the checkpoint
  const opt = new AdamW(Object.fromEntries(model.variables));
  restoreCheckpoint(ck, model.params, opt);
  const step = ck.manifest.step;
  const params = paramsAt(init, step);
  for (const [n, v] of model.variables) assert.deepEqual(await v.data(), params[n], `restored ${n} at step ${step}`);
  const got = await opt.exportState();
  const want = optimizerAt(init, step);
  assert.equal(got.step, step);
  for (const n of init.names) assert.deepEqual([got.m[n].data, got.v[n].data], [want.m[n].data, want.v[n].data], `restored moments of ${n}`);
  opt.dispose();
  model.dispose();
}

// ---------------------------------------------------------------------------------------------------
// the child

type ChildMessage = { type: 'ready'; resumedFrom: number | null } | { type: 'error'; message: string };

async function child(runDir: string): Promise<void> {
  const send = (m: ChildMessage) => process.send?.(m);
  try {
    await tf.setBackend('cpu');
    await cleanCheckpointTemps(runDir); // this process is the one writer now
    const model = createModel(CONFIG, SEED);
    const init = await initOf(model);
    const opt = new AdamW(Object.fromEntries(model.variables));
    const ck = await latestValidCheckpoint(runDir);
    let step = 0;
    if (ck) {
      assertStateOf(ck, init);
      restoreCheckpoint(ck, model.params, opt);
      step = ck.manifest.step;
    }
    send({ type: 'ready', resumedFrom: ck ? step : null });
    for (;;) {
      step += 1;
      const params = paramsAt(init, step);
      tf.tidy(() => { for (const [n, v] of model.variables) v.assign(tf.tensor(params[n], v.shape)); });
      opt.importState(optimizerAt(init, step));
      await saveCheckpoint(runDir, {
        step, tokensSeen: step * 64, params: model.params, optimizer: opt, rng: rngAt(step), dataPosition: dataAt(step), valLoss: lossAt(step),
      }, { keepLast: KEEP_LAST });
    }
  } catch (e) {
    send({ type: 'error', message: (e as Error).stack ?? String(e) });
    process.exitCode = 1;
  }
}

// ---------------------------------------------------------------------------------------------------
// the test

function startChild(runDir: string): { proc: ChildProcess; ready: Promise<{ resumedFrom: number | null }>; exited: Promise<NodeJS.Signals | number | null> } {
  const env: NodeJS.ProcessEnv = { ...process.env, [CHILD_ENV]: runDir };
  delete env.NODE_TEST_CONTEXT; // the child is not a test-runner child
  const proc = fork(import.meta.filename, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += String(d); });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => proc.on('exit', (code, signal) => resolve(signal ?? code)));
  const ready = new Promise<{ resumedFrom: number | null }>((resolve, reject) => {
    proc.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') resolve(m);
      else reject(new Error(`child failed: ${m.message}`));
    });
    void exited.then((how) => reject(new Error(`child exited (${how}) before it was ready: ${stderr}`)));
  });
  ready.catch(() => undefined);
  return { proc, ready, exited };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A seeded generator for the kill delays, so a failure can be replayed with the seed it prints. */
function delays(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

if (process.env[CHILD_ENV]) {
  await child(process.env[CHILD_ENV]);
} else {
  describe('checkpoints under SIGKILL', () => {
    it('every checkpoint left on disk loads, and resume continues from the newest', async (t) => {
      await tf.setBackend('cpu');
      const init = await initOf(createModel(CONFIG, SEED));
      const runDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'wb-kill-'));
      const seed = Number(process.env.WB_KILL_SEED ?? Date.now() % 100000);
      const rand = delays(seed);
      const KILLS = 30;
      let lastStep = 0;
      let haveCheckpoint = false;
      let listedBefore = 0;
      let killsLeavingTemps = 0;
      try {
        for (let k = 0; k < KILLS; k++) {
          const c = startChild(runDir);
          if (k % 6 === 5) {
            // now and then, a kill while the child is still starting: cleaning, loading, restoring
            await sleep(rand() * 600);
          } else {
            const { resumedFrom } = await c.ready;
            assert.equal(resumedFrom, haveCheckpoint ? lastStep : null, `kill ${k} (seed ${seed}): resumed from the newest checkpoint`);
            await sleep(5 + rand() * 150);
          }
          c.proc.kill('SIGKILL');
          await c.exited;

          // a kill before the first save (a slow machine, or a kill while starting) leaves no folder yet
          const entries: string[] = await fsp.readdir(path.join(runDir, 'checkpoints')).catch((e: NodeJS.ErrnoException) => {
            if (e.code === 'ENOENT' && !haveCheckpoint) return [];
            throw e;
          });
          const temps = entries.filter(isTempName);
          if (temps.length) killsLeavingTemps++;
          const others: string[] = entries.filter((e) => !isTempName(e)).sort();
          const listed = await listCheckpoints(runDir);
          assert.deepEqual(others.filter((e) => e.startsWith('step-')), listed.map((c) => c.name), 'only checkpoint folders are listed, never temporaries');
          assert.deepEqual(others.filter((e) => !e.startsWith('step-')).filter((e) => e !== 'last.json' && e !== 'best.json'), [], `unexpected entries: ${others}`);
          for (const entry of listed) assertStateOf(await loadCheckpoint(entry.dir), init);
          for (const which of ['last', 'best'] as const) {
            const p = await readPointer(runDir, which);
            if (p) assert.ok(listed.some((c) => c.name === p.checkpoint), `${which}.json names ${p.checkpoint}, which exists`);
          }
          const latest = await latestValidCheckpoint(runDir);
          if (latest) {
            assert.ok(latest.manifest.step >= lastStep, `kill ${k} (seed ${seed}): no progress lost (${latest.manifest.step} >= ${lastStep})`);
            // A child that finished a save before its last one also finished that save's rotation, so at most
            // KEEP_LAST + best + the last save stay. A child killed inside its first save's rotation may leave one
            // more than the child before it; the next child that saves twice clears them.
            const bound = latest.manifest.step - lastStep >= 2 ? KEEP_LAST + 2 : Math.max(KEEP_LAST + 2, listedBefore + 1);
            assert.ok(listed.length <= bound, `kill ${k} (seed ${seed}): rotation keeps at most ${bound}: ${listed.map((c) => c.name)}`);
            lastStep = latest.manifest.step;
            listedBefore = listed.length;
            haveCheckpoint = true;
            if (k % 5 === 0 || k === KILLS - 1) await assertRestores(latest, init);
          }
        }
        // a slow machine saves less often between kills; a third of a save per kill still proves progress
        assert.ok(lastStep >= KILLS / 3, `checkpoints were written (newest: step ${lastStep})`);
        assert.ok(killsLeavingTemps > 0, 'some kills landed inside a save');
        // the next writer's open removes what the kills left
        await cleanCheckpointTemps(runDir);
        assert.deepEqual((await fsp.readdir(path.join(runDir, 'checkpoints'))).filter(isTempName), []);
        assert.equal((await latestValidCheckpoint(runDir))!.manifest.step, lastStep);
        t.diagnostic(`${KILLS} kills (seed ${seed}): ${killsLeavingTemps} left a save half done; newest checkpoint: step ${lastStep}`);
      } finally {
        await fsp.rm(runDir, { recursive: true, force: true });
      }
    });
  });
}
