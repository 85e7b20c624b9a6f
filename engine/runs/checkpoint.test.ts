import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '../models/registry';
import { useBackend } from '../testing';
import { AdamW } from '../training/adamw';
import { trainStep } from '../training/trainStep';
import { Rng } from '../util/random';
import { tempPathFor } from '../../common/node/atomicWrite';
import {
  cleanCheckpointTemps, latestValidCheckpoint, listCheckpoints,
  loadCheckpoint, readPointer, restoreCheckpoint, saveCheckpoint, setAsideCheckpointsAfter, validateCheckpoint,
} from './checkpoint';
import { decodeSafetensors } from './safetensors';


const dirs: string[] = [];
after(async () => { for (const d of dirs) await fsp.rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'wb-ckpt-'));
  dirs.push(d);
  return d;
}

const CONFIG = { arch: 'gpt', vocabSize: 16, contextLength: 8, dModel: 16, nHeads: 2, nLayers: 1 } as const;

function batch(rng: Rng) {
  const ids = Array.from({ length: 2 * 8 }, () => rng.int(16));
  return { inputIds: tf.tensor2d(ids, [2, 8], 'int32'), labels: tf.tensor2d(ids.map((x) => (x + 1) % 16), [2, 8], 'int32') };
}

/** Trains `steps` steps, drawing batches from `rng`. */
function train(model: ReturnType<typeof createModel>, opt: AdamW, rng: Rng, steps: number): number[] {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const b = batch(rng);
    losses.push(trainStep(model, opt, b, { lr: 1e-2, clipNorm: 1 }).loss);
    tf.dispose(Object.values(b));
  }
  return losses;
}

async function values(model: ReturnType<typeof createModel>): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [n, v] of model.variables) out[n] = Array.from(await v.data());
  return out;
}

before(async () => { await useBackend('cpu'); });

describe('checkpoints', () => {
  it('resume continues exactly: same parameters, optimizer state, RNG and data position as an unbroken run', async () => {
    const runDir = await tempDir();
    // the unbroken run: 3 steps, a checkpoint, 3 more
    const a = createModel(CONFIG, 11);
    const optA = new AdamW(Object.fromEntries(a.variables), { lr: 1e-2, weightDecay: 0.1 });
    const rngA = new Rng(5);
    train(a, optA, rngA, 3);
    const rngAt3 = rngA.state;
    const saved = await saveCheckpoint(runDir, {
      step: 3, tokensSeen: 3 * 16, params: a.params, optimizer: optA, rng: { data: rngA.state }, dataPosition: { batches: 3 }, valLoss: 2.5, extra: { note: 'x' },
    });
    assert.equal(saved.name, 'step-00000003');
    assert.equal(saved.isBest, true);
    const lossesA = train(a, optA, rngA, 3);

    // the resumed one: a fresh model from another seed, restored from the checkpoint
    const ck = await latestValidCheckpoint(runDir);
    assert.ok(ck);
    assert.deepEqual([ck.manifest.step, ck.manifest.tokensSeen, ck.manifest.rng, ck.manifest.dataPosition, ck.manifest.valLoss, ck.manifest.bestValLoss, ck.manifest.extra],
      [3, 48, { data: rngAt3 }, { batches: 3 }, 2.5, 2.5, { note: 'x' }]);
    const b = createModel(CONFIG, 99);
    const optB = new AdamW(Object.fromEntries(b.variables), { lr: 1e-2, weightDecay: 0.1 });
    restoreCheckpoint(ck, b.params, optB);
    assert.equal(optB.stepCount, 3);
    const rngB = new Rng(0);
    rngB.state = (ck.manifest.rng as { data: number }).data;
    const lossesB = train(b, optB, rngB, 3);
    assert.deepEqual(lossesB, lossesA, 'the same losses after resume');
    assert.deepEqual(await values(b), await values(a), 'bit-identical parameters');
    const [sa, sb] = [await optA.exportState(), await optB.exportState()];
    assert.equal(sb.step, sa.step);
    for (const n of Object.keys(sa.m)) assert.deepEqual([sb.m[n].data, sb.v[n].data], [sa.m[n].data, sa.v[n].data], n);
    for (const x of [optA, optB, a, b]) x.dispose();
  });

  it('store the model under its parameter names in model.safetensors, moments as optimizer.m/v.<name>', async () => {
    const runDir = await tempDir();
    const m = createModel(CONFIG, 1);
    const opt = new AdamW(Object.fromEntries(m.variables));
    const saved = await saveCheckpoint(runDir, { step: 0, params: m.params, optimizer: opt });
    assert.deepEqual((await fsp.readdir(saved.dir)).sort(), ['checkpoint.json', 'model.safetensors', 'optimizer.safetensors']);
    const model = decodeSafetensors(await fsp.readFile(path.join(saved.dir, 'model.safetensors')));
    assert.deepEqual([...model.tensors.keys()], m.params.names);
    assert.deepEqual(model.metadata, { format: 'pt' });
    const moments = decodeSafetensors(await fsp.readFile(path.join(saved.dir, 'optimizer.safetensors')));
    assert.deepEqual([...moments.tensors.keys()].sort(), m.params.names.flatMap((n) => [`optimizer.m.${n}`, `optimizer.v.${n}`]).sort());
    assert.deepEqual(await readPointer(runDir, 'last'), { checkpoint: 'step-00000000', step: 0, valLoss: null });
    assert.equal(await readPointer(runDir, 'best'), null, 'no val loss, no best');
    opt.dispose();
    m.dispose();
  });

  it('that were damaged are refused with the file and the reason, and latestValidCheckpoint walks back past them', async () => {
    const runDir = await tempDir();
    const m = createModel(CONFIG, 1);
    const opt = new AdamW(Object.fromEntries(m.variables));
    for (const step of [10, 20, 30, 40, 50, 60]) await saveCheckpoint(runDir, { step, params: m.params, optimizer: opt });
    const dir = (s: number) => path.join(runDir, 'checkpoints', `step-000000${s}`);
    const flip = async (f: string, at: number) => { const b = await fsp.readFile(f); b[at] ^= 1; await fsp.writeFile(f, b); };
    await flip(path.join(dir(60), 'model.safetensors'), 200);
    const f50 = path.join(dir(50), 'optimizer.safetensors');
    await fsp.truncate(f50, (await fsp.stat(f50)).size - 1);
    await fsp.rm(path.join(dir(40), 'checkpoint.json'));
    const man30 = path.join(dir(30), 'checkpoint.json');
    await fsp.writeFile(man30, (await fsp.readFile(man30, 'utf8')).replace('"step": 30', '"step": 31'));
    await fsp.writeFile(path.join(dir(20), 'checkpoint.json'), '{"format":');

    const problems: Record<string, string> = {};
    for (const c of await listCheckpoints(runDir)) {
      const r = await validateCheckpoint(c.dir);
      if (!r.ok) problems[c.name] = r.problem;
    }
    assert.match(problems['step-00000060'], /step-00000060\/model\.safetensors: does not match the SHA-256/);
    assert.match(problems['step-00000050'], /step-00000050\/optimizer\.safetensors: is \d+ bytes, the manifest says \d+/);
    assert.match(problems['step-00000040'], /step-00000040\/checkpoint\.json: missing/);
    assert.match(problems['step-00000030'], /checkpoint\.json: says step 31 but the folder is step-00000030/);
    assert.match(problems['step-00000020'], /checkpoint\.json: unreadable/);
    assert.equal(problems['step-00000010'], undefined);

    const skipped: string[] = [];
    const ck = await latestValidCheckpoint(runDir, { onSkip: (name) => skipped.push(name) });
    assert.equal(ck?.manifest.step, 10);
    assert.deepEqual(skipped, ['step-00000060', 'step-00000050', 'step-00000040', 'step-00000030', 'step-00000020']);
    await fsp.rm(dir(10), { recursive: true });
    assert.equal(await latestValidCheckpoint(runDir), null);
    opt.dispose();
    m.dispose();
  });

  it('do not restore into a model of another shape, and change nothing when they refuse', async () => {
    const runDir = await tempDir();
    const m = createModel(CONFIG, 1);
    await saveCheckpoint(runDir, { step: 1, params: m.params });
    const ck = (await latestValidCheckpoint(runDir))!;
    const wider = createModel({ ...CONFIG, dModel: 32 }, 2);
    const before = await values(wider);
    assert.throws(() => restoreCheckpoint(ck, wider.params), /model\.safetensors: parameter 'wte\.weight' is \[16,16\] but the model's is \[16,32\]/);
    assert.deepEqual(await values(wider), before);
    const deeper = createModel({ ...CONFIG, nLayers: 2 }, 2);
    assert.throws(() => restoreCheckpoint(ck, deeper.params), /has no parameter 'h\.1\./);
    const opt = new AdamW(Object.fromEntries(m.variables));
    assert.throws(() => restoreCheckpoint(ck, m.params, opt), /saved without optimizer state/);
    for (const x of [m, wider, deeper, opt]) x.dispose();
  });

  it('rotate, keeping the newest N and the best, and keep the pointers right', async () => {
    const runDir = await tempDir();
    const m = createModel(CONFIG, 1);
    const losses: Record<number, number> = { 1: 3, 2: 2, 3: 2.5, 4: 2.2, 5: 2.1, 6: 1.9, 7: 2.0 };
    for (const [s, l] of Object.entries(losses)) await saveCheckpoint(runDir, { step: Number(s), params: m.params, valLoss: l }, { keepLast: 2 });
    assert.deepEqual((await listCheckpoints(runDir)).map((c) => c.step), [6, 7]);
    assert.deepEqual(await readPointer(runDir, 'best'), { checkpoint: 'step-00000006', step: 6, valLoss: 1.9 });
    assert.deepEqual(await readPointer(runDir, 'last'), { checkpoint: 'step-00000007', step: 7, valLoss: 2 });
    const saved = await saveCheckpoint(runDir, { step: 8, params: m.params, valLoss: 2.4 }, { keepLast: 1 });
    assert.deepEqual([saved.isBest, saved.bestValLoss, saved.removed], [false, 1.9, ['step-00000007']]);
    assert.deepEqual((await listCheckpoints(runDir)).map((c) => c.step), [6, 8], 'the best survives rotation');
    assert.deepEqual((await fsp.readdir(path.join(runDir, 'checkpoints'))).sort(), ['best.json', 'last.json', 'step-00000006', 'step-00000008']);
    m.dispose();
  });

  it('passed over on resume are set aside in damaged/, kept, with the pointers moved back', async () => {
    const runDir = await tempDir();
    const m = createModel(CONFIG, 1);
    for (const [s, l] of [[1, 3], [2, 2], [3, 1]]) await saveCheckpoint(runDir, { step: s, params: m.params, valLoss: l });
    const damaged = path.join(runDir, 'checkpoints', 'damaged');
    assert.deepEqual(await setAsideCheckpointsAfter(runDir, 1), [
      { name: 'step-00000002', to: path.join(damaged, 'step-00000002') }, { name: 'step-00000003', to: path.join(damaged, 'step-00000003') },
    ]);
    assert.deepEqual((await listCheckpoints(runDir)).map((c) => c.name), ['step-00000001']);
    await loadCheckpoint(path.join(damaged, 'step-00000003')); // set aside, not deleted: its weights still load
    assert.deepEqual(await readPointer(runDir, 'last'), { checkpoint: 'step-00000001', step: 1, valLoss: 3 });
    assert.deepEqual(await readPointer(runDir, 'best'), { checkpoint: 'step-00000001', step: 1, valLoss: 3 });
    // a checkpoint of a step that exists already replaces it whole
    const again = await saveCheckpoint(runDir, { step: 1, params: m.params, valLoss: 2.9, extra: { v: 2 } });
    assert.equal(again.isBest, true);
    assert.deepEqual((await loadCheckpoint(again.dir)).manifest.extra, { v: 2 });
    assert.deepEqual((await fsp.readdir(path.join(runDir, 'checkpoints'))).sort(), ['best.json', 'damaged', 'last.json', 'step-00000001']);
    // set aside again after a later restart from 0: both copies are kept
    await saveCheckpoint(runDir, { step: 3, params: m.params, valLoss: 1 });
    assert.deepEqual((await setAsideCheckpointsAfter(runDir, 0)).map((x) => path.relative(damaged, x.to)), ['step-00000001', 'step-00000003.1']);
    assert.deepEqual(await listCheckpoints(runDir), []);
    assert.equal(await readPointer(runDir, 'last'), null);
    assert.equal(await readPointer(runDir, 'best'), null);
    m.dispose();
  });

  it('ignore temporaries left by a crash until cleanCheckpointTemps removes them', async () => {
    const runDir = await tempDir();
    const m = createModel(CONFIG, 1);
    await saveCheckpoint(runDir, { step: 5, params: m.params });
    const half = tempPathFor(path.join(runDir, 'checkpoints', 'step-00000006'));
    await fsp.mkdir(half);
    await fsp.writeFile(path.join(half, 'model.safetensors'), 'half');
    assert.deepEqual((await listCheckpoints(runDir)).map((c) => c.name), ['step-00000005']);
    assert.deepEqual((await cleanCheckpointTemps(runDir)).length, 1);
    assert.deepEqual((await fsp.readdir(path.join(runDir, 'checkpoints'))).sort(), ['last.json', 'step-00000005']);
    m.dispose();
  });
});
