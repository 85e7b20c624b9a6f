import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ACTIVATION_SCALES_FILE, MinMaxObserver, PercentileObserver, readScalesFile, writeScalesFile } from './calibrate';

describe('calibration observers', () => {
  it('minmax: the largest |x| over every batch observed', () => {
    const o = new MinMaxObserver();
    assert.equal(o.range(), 0);
    o.observe([0.5, -2, 1]);
    o.observe(new Float32Array([1.5, -0.25]));
    assert.equal(o.range(), 2);
  });

  it('percentile: the given percentile of |x|, so a rare outlier does not set the range', () => {
    const o = new PercentileObserver(99);
    const values = Array.from({ length: 1000 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1) / 1000);
    values[500] = 1000; // one outlier
    o.observe(values);
    assert.equal(o.range(), Math.fround(991 / 1000)); // sorted |x|: 0.001 … 1.000 without 0.501, then 1000; the 990th of 1000
    const all = new PercentileObserver(100);
    all.observe(values);
    assert.equal(all.range(), 1000);
  });

  it('percentile: past its capacity it keeps every other value, and the estimate stays close', () => {
    const o = new PercentileObserver(50, 64);
    const values = Array.from({ length: 4096 }, (_, i) => i / 4096);
    for (let i = 0; i < values.length; i += 100) o.observe(values.slice(i, i + 100));
    assert.ok(Math.abs(o.range() - 0.5) < 0.05, `median estimate ${o.range()}`);
  });

  it('a QAT run\'s scales file round-trips; a damaged one is refused naming the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scales-'));
    try {
      assert.equal(await readScalesFile(dir), null);
      await writeScalesFile(dir, { 'h.0.attn.c_attn': 0.0123 });
      assert.deepEqual(await readScalesFile(dir), { 'h.0.attn.c_attn': 0.0123 });
      fs.writeFileSync(path.join(dir, ACTIVATION_SCALES_FILE), '{"scales": {"a": -1}}');
      await assert.rejects(readScalesFile(dir), (e: Error) => e.message.includes(ACTIVATION_SCALES_FILE) && e.message.includes('not a file of activation scales'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
