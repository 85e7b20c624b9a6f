import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeScalar, encodeScalar } from '../../common/runFolder';
import { MetricsLog, RunLog, readMetrics } from './metricsLog';
import { listEventFiles } from './tensorboard';
import { TFEVENTS_READER, runPython } from '../testing';


const dirs: string[] = [];
after(async () => { for (const d of dirs) await fsp.rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'wb-metrics-'));
  dirs.push(d);
  return d;
}

const line = (step: number, loss: number) => ({ step, tokens: step * 100, wallTime: 1000 + step, scalars: { 'train/loss': loss } });

describe('metrics.jsonl', () => {
  it('writes non-finite values as strings and reads them back as numbers', () => {
    for (const v of [NaN, Infinity, -Infinity, 0, -1.5]) assert.ok(Object.is(decodeScalar(encodeScalar(v)), v));
    assert.equal(encodeScalar(NaN), 'NaN');
  });

  it('appends lines and reads them back', async () => {
    const dir = await tempDir();
    const log = await MetricsLog.open(dir);
    await log.append([line(1, 3), line(2, 2.5)]);
    await log.append({ step: 2, tokens: 200, scalars: { 'val/loss': NaN, 'val/perplexity': Infinity } });
    await log.close();
    const r = await readMetrics(dir);
    assert.deepEqual(r.problems, []);
    assert.equal(r.tornTail, false);
    assert.deepEqual(r.records.map((m) => [m.step, m.scalars]), [[1, { 'train/loss': 3 }], [2, { 'train/loss': 2.5 }], [2, { 'val/loss': NaN, 'val/perplexity': Infinity }]]);
    assert.ok(r.records[2].wallTime > 1e9, 'wall time defaults to now, in seconds');
    assert.match(await fsp.readFile(path.join(dir, 'metrics.jsonl'), 'utf8'), /"val\/loss":"NaN"/);
  });

  it('refuses a bad line before writing anything, naming the field', async () => {
    const dir = await tempDir();
    const log = await MetricsLog.open(dir);
    await assert.rejects(log.append([line(1, 1), { step: -1, tokens: 0, scalars: {} }]), /metrics\.jsonl: refused a metrics line: step: /);
    await assert.rejects(log.append({ step: 1, tokens: 0, scalars: { 'bad tag': 1 } }), /scalars\.bad tag|bad tag/);
    await log.close();
    assert.equal(await fsp.readFile(path.join(dir, 'metrics.jsonl'), 'utf8'), '');
  });

  it('ignores a torn last line on read and removes it when opened again', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'metrics.jsonl');
    await fsp.writeFile(file, `${JSON.stringify(line(1, 2))}\nnot json\n${JSON.stringify(line(2, 1)).slice(0, 20)}`);
    const r = await readMetrics(file);
    assert.equal(r.tornTail, true);
    assert.deepEqual(r.records.map((m) => m.step), [1]);
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0], /metrics\.jsonl: line 2 is not JSON/);
    const log = await MetricsLog.open(dir);
    await log.append(line(2, 1));
    await log.close();
    const again = await readMetrics(dir);
    assert.equal(again.tornTail, false);
    assert.deepEqual(again.records.map((m) => m.step), [1, 2]);
  });

  it('on resume drops the lines after the resumed step, so the curve continues without duplicates', async () => {
    const dir = await tempDir();
    let log = await MetricsLog.open(dir);
    for (let s = 1; s <= 10; s++) await log.append(line(s, 10 - s));
    await log.close();
    log = await MetricsLog.open(dir, { resumeStep: 6 });
    for (let s = 7; s <= 8; s++) await log.append(line(s, 100 + s));
    await log.close();
    const r = await readMetrics(dir);
    assert.deepEqual(r.records.map((m) => [m.step, m.scalars['train/loss']]), [[1, 9], [2, 8], [3, 7], [4, 6], [5, 5], [6, 4], [7, 107], [8, 108]]);
  });
});

describe('RunLog', () => {
  it('writes the same scalars to metrics.jsonl and to event files the independent reader accepts, across a resume', async () => {
    const dir = await tempDir();
    let log = await RunLog.open(dir, { wallTime: 1000, host: 'h' });
    for (let s = 1; s <= 10; s++) {
      await log.log({ step: s, tokens: s * 64, scalars: { 'train/loss': 5 / s, 'train/lr': 1e-3, 'grad/global_norm': s / 3 } });
      if (s % 5 === 0) {
        await log.log({ step: s, tokens: s * 64, scalars: { 'val/loss': 6 / s, 'val/perplexity': Math.exp(6 / s) } });
        await log.histograms(s, { 'weights/wte.weight': [0.1, -0.2, 0.3], 'grads/wte.weight': [1e-4, 2e-4] });
      }
    }
    await log.close(); // a crash would do as well: every log() call was written when it returned
    log = await RunLog.open(dir, { resumeStep: 7, wallTime: 2000, host: 'h' });
    for (let s = 8; s <= 12; s++) await log.log({ step: s, tokens: s * 64, scalars: { 'train/loss': 7 / s, 'train/lr': 5e-4, 'grad/global_norm': s } });
    await log.close();

    const fromJsonl: Record<string, [number, number][]> = {};
    for (const m of (await readMetrics(dir)).records) {
      for (const [k, v] of Object.entries(m.scalars)) (fromJsonl[k] ??= []).push([m.step, Math.fround(v)]);
    }
    const files = await listEventFiles(dir);
    assert.equal(files.length, 2, 'one event file per process');
    const fromEvents: Record<string, [number, number][]> = {};
    const histograms = new Set<string>();
    for (const f of files) {
      const r = runPython([TFEVENTS_READER, f]);
      assert.equal(r.status, 0, `${f}: ${r.stdout}${r.stderr}`);
      const out = JSON.parse(r.stdout) as { scalars: Record<string, [number, number][]>; histograms: string[] };
      for (const [k, pts] of Object.entries(out.scalars)) (fromEvents[k] ??= []).push(...pts);
      out.histograms.forEach((h) => histograms.add(h));
    }
    assert.deepEqual(fromEvents, fromJsonl);
    assert.deepEqual(fromJsonl['train/loss'].map(([s]) => s), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.deepEqual(fromJsonl['val/loss'].map(([s]) => s), [5]);
    assert.deepEqual([...histograms].sort(), ['grads/wte.weight', 'weights/wte.weight']);
  });
});
