/**
 * The comparison run on a tiny trained GPT and variants written here (./variantRuns.testing.ts): an exact
 * copy (every divergence zero), weights rounded through int8 (small errors, timed in ONNX Runtime), a head
 * zeroed (shown removed) and a one-layer student (layers mapped, no weight error); rows in order, files
 * rewritten as they come, a cancel heard between models.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Comparison, COMPARE_LIMITS, type CompareRow } from '../../common/compare';
import { EngineError } from '../../common/errors';
import { dequantize, quantizeInt8PerChannel } from '../compression/quantize';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import type { ParamStore } from '../models/params';
import { useBackend } from '../testing';
import { measureComparison } from './measure';
import { variantsOf } from './variants';
import { writeVariant } from './variantRuns.testing';

/** Every matrix of the blocks rounded through symmetric per-channel int8 and back, as an int8 variant's weights read. */
function roundThroughInt8(params: ParamStore): void {
  for (const spec of params.specs) {
    const v = params.get(spec.name);
    if (v.rank !== 2 || !/^(h|bert\.encoder\.layer)\.\d+\./.test(spec.name)) continue;
    const back = dequantize(quantizeInt8PerChannel(v, 1));
    v.assign(back);
    back.dispose();
  }
}

/** Zeroes head 0 of layer 0's slice of the output projection (GPT Conv1D [in, out]: rows 0 … headDim-1). */
function zeroHead0(params: ParamStore): void {
  const w = params.get('h.0.attn.c_proj.weight');
  const hd = TINY_GPT.dModel / TINY_GPT.nHeads;
  const data = (w.dataSync() as Float32Array).slice();
  data.fill(0, 0, hd * w.shape[1]!);
  w.assign(tf.tensor(data, w.shape));
}

describe('measureComparison', () => {
  let baseDir = '';
  const variants: Record<string, string> = {};
  before(async () => {
    await useBackend('cpu');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-compare-'));
    baseDir = await tinyRun(dir, TINY_GPT);
    variants.copy = await writeVariant(baseDir, { id: 'v-copy', compress: { method: 'prune', kind: 'magnitude' } });
    variants.int8 = await writeVariant(baseDir, { id: 'v-int8', compress: { method: 'int8' }, transform: roundThroughInt8 });
    variants.heads = await writeVariant(baseDir, { id: 'v-heads', compress: { method: 'prune', kind: 'heads' }, transform: zeroHead0 });
    variants.student = await writeVariant(baseDir, { id: 'v-student', compress: { method: 'distill' }, model: { nLayers: 1 } });
  });

  it('finds the runs derived from the base beside it', async () => {
    assert.deepEqual((await variantsOf(baseDir)).map((d) => path.basename(d)).sort(), ['v-copy', 'v-heads', 'v-int8', 'v-student']);
  });

  it('measures the base and every variant on the same held-out batches, rows announced in order', async () => {
    const announced: [string, number, number][] = [];
    const fileRowsAtAnnounce: number[] = [];
    const out = await measureComparison({
      baseRunDir: baseDir, variantRunDirs: [variants.copy, variants.int8, variants.heads, variants.student], evalBatches: 2, batchSize: 4,
      backend: null, threads: 1, cacheDir: null,
      onRow: (row, done, total) => {
        announced.push([row.runId, done, total]);
        fileRowsAtAnnounce.push(Comparison.parse(JSON.parse(fs.readFileSync(path.join(baseDir, 'compare/comparison.json'), 'utf8'))).rows.length);
      },
    });
    const baseId = path.basename(baseDir);
    assert.deepEqual(announced, [[baseId, 1, 5], ['v-copy', 2, 5], ['v-int8', 3, 5], ['v-heads', 4, 5], ['v-student', 5, 5]]);
    assert.deepEqual(fileRowsAtAnnounce, [1, 2, 3, 4, 5], 'each row is in the file when it is announced');
    const c = Comparison.parse(JSON.parse(fs.readFileSync(out.jsonFile, 'utf8')));
    assert.equal(c.complete, true);
    assert.equal(c.data.batches, 2);
    const [base, copy, int8, heads, student] = c.rows as CompareRow[];
    for (const r of c.rows) assert.equal(r.error, undefined, `${r.runId}: ${r.error}`);

    assert.equal(base.role, 'base');
    assert.equal(base.klToBase, 0);
    assert.ok(base.valLoss! > 0 && Math.abs(base.perplexity! - Math.exp(base.valLoss!)) < 1e-3 * base.perplexity!);
    assert.ok(base.bytesOnDisk! > 4 * base.parameters!, 'float32 weights on disk: 4 bytes each and a header');
    assert.deepEqual(base.latency.map((l) => l.runtime), ['tfjs', 'onnx-float32'], 'the base is timed in ONNX Runtime too when an int8 variant is compared');

    // an exact copy: nothing differs
    assert.ok(Math.abs(copy.klToBase!) < 1e-6, `copy KL ${copy.klToBase}`);
    assert.equal(copy.top1Agreement, 1);
    assert.equal(copy.valLoss, base.valLoss);
    assert.ok(copy.weightError!.every((e) => e.relError === 0));
    assert.ok(copy.heads!.js.flat().every((v) => v !== null && v < 1e-6));
    const [copyTime] = copy.latency;
    assert.equal(copyTime.reference?.of, 'base', 'a float variant is timed interleaved with its base');
    assert.ok(copyTime.reference!.ratio > 1 / 3 && copyTime.reference!.ratio < 3, `the same model, timed beside itself: ratio ${copyTime.reference!.ratio}`);
    assert.equal(base.latency[0].reference, undefined);

    // int8-rounded weights: small, non-zero errors where the blocks are, none in the embeddings
    assert.equal(int8.method, 'int8');
    const err = Object.fromEntries(int8.weightError!.map((e) => [e.layer, e.relError]));
    assert.equal(err.embeddings, 0);
    assert.ok(err['layer.0'] > 0 && err['layer.0'] < 0.05, `layer.0 error ${err['layer.0']}`);
    assert.ok(int8.klToBase! > 0 && int8.klToBase! < 0.05, `int8 KL ${int8.klToBase}`);
    assert.ok(int8.top1Agreement! > 0.8);
    assert.deepEqual(int8.latency.map((l) => l.runtime), ['onnx-float32', 'onnx-int8'], 'int8 speed is measured where int8 runs, against its float32 twin');
    for (const l of int8.latency) assert.ok(l.msPerSequence > 0 && l.reps >= 2 && l.reps <= COMPARE_LIMITS.latencyReps && l.threads === 1);
    const [f32, i8] = int8.latency;
    assert.equal(i8.reference?.of, 'float32-twin');
    assert.ok(Math.abs(i8.reference!.ratio - i8.msPerSequence / f32.msPerSequence) < 1e-9 * i8.reference!.ratio, 'the ratio is of the two medians timed together');

    // a zeroed head is removed; the others are compared
    assert.equal(heads.method, 'prune-heads');
    assert.equal(heads.heads!.js[0][0], null);
    assert.ok(heads.heads!.js[0][1] !== null && heads.heads!.js[1].every((v) => v !== null));
    assert.equal(heads.nonZeroParameters, heads.parameters! - (TINY_GPT.dModel / TINY_GPT.nHeads) * TINY_GPT.dModel);

    // a one-layer student: its layer 0 against base layer 0, no weight error, fewer parameters
    assert.equal(student.weightError, null);
    assert.deepEqual(student.heads!.baseLayers, [0]);
    assert.match(student.heads!.mapping, /base layer ⌊i·2\/1⌋/);
    assert.ok(student.parameters! < base.parameters!);
    assert.ok(student.heads!.js[0].every((v) => v !== null && v > 0 && v <= 1));

    const csv = fs.readFileSync(out.csvFile, 'utf8').trim().split('\r\n');
    assert.equal(csv.length, 6);
    assert.match(csv[0], /^run_id,name,role,method,/);
  });

  it('stops between models on a cancel, the rows so far in the file', async () => {
    const abort = new AbortController();
    await assert.rejects(measureComparison({
      baseRunDir: baseDir, variantRunDirs: [variants.copy, variants.int8], evalBatches: 1, batchSize: 2, backend: null, threads: 1, cacheDir: null,
      signal: abort.signal, onRow: () => abort.abort(),
    }), (e: unknown) => e instanceof EngineError && e.code === 'JOB_CANCELLED');
    const c = Comparison.parse(JSON.parse(fs.readFileSync(path.join(baseDir, 'compare/comparison.json'), 'utf8')));
    assert.equal(c.rows.length, 1);
    assert.equal(c.complete, false);
  });

  it('hears a cancel within a second while a model is being measured', async () => {
    const abort = new AbortController();
    let abortedAt = 0;
    await assert.rejects(measureComparison({
      baseRunDir: baseDir, variantRunDirs: [variants.int8, variants.student], evalBatches: 4, batchSize: 4, backend: null, threads: 1, cacheDir: null,
      signal: abort.signal,
      onStage: (message) => { if (message === 'measuring v-int8') setTimeout(() => { abortedAt = performance.now(); abort.abort(); }, 20); },
    }), (e: unknown) => e instanceof EngineError && e.code === 'JOB_CANCELLED');
    assert.ok(abortedAt > 0, 'the cancel came while v-int8 was measured');
    assert.ok(performance.now() - abortedAt < 1000, `stopped ${Math.round(performance.now() - abortedAt)} ms after the cancel`);
  });

  it('gives a variant it cannot open a row that says why, and goes on', async () => {
    const broken = path.join(path.dirname(baseDir), 'v-broken');
    fs.mkdirSync(broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'run.json'), '{"not": "a run"}');
    const out = await measureComparison({ baseRunDir: baseDir, variantRunDirs: [broken, variants.copy], evalBatches: 1, batchSize: 2, backend: null, threads: 1, cacheDir: null });
    assert.match(out.comparison.rows[1].error ?? '', /run\.json/);
    assert.equal(out.comparison.rows[2].error, undefined);
    fs.rmSync(broken, { recursive: true });
  });
});

describe('measureComparison on a masked LM', () => {
  it('compares masked-token distributions and times BERT\'s int8 graph against its float32 twin', async () => {
    await useBackend('cpu');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-compare-bert-'));
    const baseDir = await tinyRun(dir, TINY_BERT, { tokenizer: tinyBertTokenizer });
    const int8 = await writeVariant(baseDir, { id: 'bert-int8', compress: { method: 'int8' }, transform: roundThroughInt8 });
    const out = await measureComparison({ baseRunDir: baseDir, evalBatches: 2, batchSize: 4, backend: null, threads: 1, cacheDir: null });
    const [base, q] = out.comparison.rows;
    assert.equal(out.comparison.data.objective, 'mlm');
    assert.equal(q.runDir, int8);
    assert.equal(q.error, undefined, q.error);
    assert.ok(base.valLoss! > 0 && q.valLoss! > 0);
    assert.ok(q.klToBase! >= 0 && q.klToBase! < 0.05 && q.top1Agreement! > 0.8, `KL ${q.klToBase}, top-1 ${q.top1Agreement}`);
    assert.deepEqual(q.latency.map((l) => l.runtime), ['onnx-float32', 'onnx-int8']);
    assert.ok(q.weightError!.some((e) => e.layer === 'layer.1' && e.relError > 0));
    assert.equal(q.heads!.js.length, TINY_BERT.nLayers);
  });
});
