import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32c } from '@aws-crypto/crc32c';
import {
  EventFileWriter, FILE_VERSION, defaultBucketLimits, frameRecord, histogramOf, listEventFiles, maskedCrc32c,
  parseEventRecords, readEventFile, truncateEventFiles,
} from './tensorboard';
import { TFEVENTS_READER, runPython } from '../testing';


interface ReaderOutput { records: number; file_version: string | null; scalars: Record<string, [number, number][]>; histograms: string[]; errors: string[] }

/** The independent reader's verdict on a file: its exit status and what it found. */
function readWithPython(file: string): { status: number; out: ReaderOutput } {
  const r = runPython([TFEVENTS_READER, file]);
  return { status: r.status ?? -1, out: JSON.parse(r.stdout) as ReaderOutput };
}

async function tempDir(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'wb-tb-'));
}

describe('TFRecord framing', () => {
  it('uses CRC32C (Castagnoli) with TensorFlow\'s mask', () => {
    // the check value of CRC-32C (RFC 3720 B.4) and the standard 32 zero bytes vector
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    const c = 0xe3069283;
    assert.equal(maskedCrc32c(Buffer.from('123456789')), ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0);
  });

  it('frames a record as length, its CRC, data, its CRC', () => {
    const rec = frameRecord(Buffer.from('abc'));
    assert.equal(rec.length, 8 + 4 + 3 + 4);
    assert.equal(rec.readBigUInt64LE(0), 3n);
    assert.equal(rec.readUInt32LE(8), maskedCrc32c(rec.subarray(0, 8)));
    assert.equal(rec.toString('utf8', 12, 15), 'abc');
    assert.equal(rec.readUInt32LE(15), maskedCrc32c(Buffer.from('abc')));
  });
});

describe('histograms', () => {
  it('uses TensorFlow\'s default buckets and its rule limit[k-1] <= v < limit[k]', () => {
    const limits = defaultBucketLimits();
    assert.equal(limits[0], -Number.MAX_VALUE);
    assert.equal(limits[limits.length - 1], Number.MAX_VALUE);
    assert.equal(limits[(limits.length - 1) / 2], 0);
    assert.ok(limits.every((l, i) => i === 0 || l > limits[i - 1]), 'limits increase');
    const h = histogramOf([0, 0, 1, -1, 2.5, NaN, Infinity]);
    assert.deepEqual([h.num, h.min, h.max, h.sum, h.sum_squares], [5, -1, 2.5, 2.5, 1 + 1 + 6.25]);
    assert.equal(h.bucket.reduce((a, b) => a + b, 0), 5);
    assert.equal(h.bucket_limit.length, h.bucket.length);
    // trimmed to the non-empty range; each value lies in the first bucket whose limit exceeds it
    assert.ok(h.bucket[0] > 0 && h.bucket.at(-1)! > 0);
    assert.ok(h.bucket_limit[0] > -1 && h.bucket_limit.at(-1)! > 2.5);
    const zeroAt = h.bucket_limit.findIndex((l) => l > 0);
    assert.equal(h.bucket_limit[zeroAt], 1e-12);
    assert.equal(h.bucket[zeroAt], 2, 'the two zeros');
  });

  it('has an empty form that TensorBoard can still draw', () => {
    assert.deepEqual(histogramOf([]), { min: 0, max: 0, num: 0, sum: 0, sum_squares: 0, bucket_limit: [0], bucket: [0] });
  });
});

describe('event files', () => {
  it('are read by the independent reader with the same scalars and histogram tags', async () => {
    const dir = await tempDir();
    const w = await EventFileWriter.create(dir, { wallTime: 1700000000.5, host: 'test-host' });
    assert.equal(path.basename(w.file), 'events.out.tfevents.1700000000.test-host');
    const written: Record<string, [number, number][]> = {};
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let step = 0; step <= 40; step++) {
      const scalars: Record<string, number> = {
        'train/loss': 4 * Math.exp(-step / 10) + rand() / 3,
        'train/lr': 1e-3 * Math.min(1, (step + 1) / 10),
        'grad/global_norm': 1e6 * rand(),
        'grad_norm/h.0': -rand() * 1e-9,
      };
      if (step % 10 === 0) scalars['val/perplexity'] = Math.exp(3 - step / 20);
      w.addScalars(scalars, step, 1700000001 + step);
      for (const [k, v] of Object.entries(scalars)) (written[k] ??= []).push([step, Math.fround(v)]);
      if (step % 20 === 0) {
        w.addHistograms({ 'weights/h.0.attn.c_attn.weight': Float32Array.from({ length: 500 }, () => rand() - 0.5), 'grads/wte.weight': [1e-6, -2e-6, 0] }, step);
      }
      if (step % 7 === 0) await w.flush();
    }
    await w.close();

    const { status, out } = readWithPython(w.file);
    assert.equal(status, 0, JSON.stringify(out.errors));
    assert.equal(out.file_version, FILE_VERSION);
    assert.deepEqual(out.scalars, written, 'same tags, steps and float32 values');
    assert.deepEqual(out.histograms, ['grads/wte.weight', 'weights/h.0.attn.c_attn.weight']);

    // our own reader agrees, and keeps NaN as NaN
    const ours = await readEventFile(w.file);
    assert.equal(ours.error, undefined);
    assert.equal(ours.events.length, out.records);
  });

  it('keep NaN and infinities of a diverging run', async () => {
    const dir = await tempDir();
    const w = await EventFileWriter.create(dir);
    w.addScalars({ 'train/loss': NaN, 'a': Infinity, 'b': -Infinity }, 3);
    await w.close();
    const values = (await readEventFile(w.file)).events[1].summary!.value.map((v) => v.simple_value);
    assert.deepEqual(values, [NaN, Infinity, -Infinity]);
  });

  it('get a new name when a second writer starts in the same second', async () => {
    const dir = await tempDir();
    const a = await EventFileWriter.create(dir, { wallTime: 5, host: 'h' });
    const b = await EventFileWriter.create(dir, { wallTime: 5, host: 'h' });
    assert.notEqual(a.file, b.file);
    await a.close();
    await b.close();
    assert.deepEqual((await listEventFiles(dir)).map((f) => path.basename(f)), ['events.out.tfevents.5.h', 'events.out.tfevents.5.h.1']);
  });

  it('are cut back to a resumed step, and lose a torn tail, so that the reader accepts them again', async () => {
    const dir = await tempDir();
    const w = await EventFileWriter.create(dir);
    for (let step = 1; step <= 10; step++) {
      w.addScalars({ 'train/loss': step }, step);
      await w.flush();
    }
    await w.close();
    // a power cut in the middle of the last record
    const full = await fsp.readFile(w.file);
    await fsp.writeFile(w.file, full.subarray(0, full.length - 5));
    const torn = readWithPython(w.file);
    assert.equal(torn.status, 1, 'the reader rejects a truncated record');
    assert.match(torn.out.errors[0], /truncated/);
    assert.match(parseEventRecords(await fsp.readFile(w.file)).error!, /truncated record/);

    const changed = await truncateEventFiles(dir, 6);
    assert.deepEqual(changed.map((c) => [c.dropped, c.torn]), [[3, true]]);
    const { status, out } = readWithPython(w.file);
    assert.equal(status, 0);
    assert.deepEqual(out.scalars['train/loss'], [1, 2, 3, 4, 5, 6].map((s) => [s, s]));
    assert.equal(out.file_version, FILE_VERSION);
    assert.deepEqual(await truncateEventFiles(dir, 6), [], 'nothing more to change');
  });

  it('are rejected by the reader when a byte flips, and by ours', async () => {
    const dir = await tempDir();
    const w = await EventFileWriter.create(dir);
    w.addScalars({ x: 1 }, 1);
    await w.close();
    const buf = await fsp.readFile(w.file);
    buf[buf.length - 6] ^= 0x40;
    await fsp.writeFile(w.file, buf);
    assert.equal(readWithPython(w.file).status, 1);
    assert.match((await readEventFile(w.file)).error!, /bad data CRC/);
  });
});
