import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { EngineError } from '../../common/errors';
import { trainTokenizer, trainTokenizerCooperatively } from './index';

// Read in place: the corpus belongs to shared/, not to the repository.
const corpus = fs.readFileSync(path.resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt'), 'utf8');
const LINES = corpus.split('\n');

/** Runs `work` while a 5 ms interval timer ticks; returns how many ticks came and the longest stretch between two. */
async function ticksDuring<T>(work: () => Promise<T>): Promise<{ value: T; ticks: number; longestGapMs: number; totalMs: number }> {
  let ticks = 0;
  let last = performance.now();
  let longestGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    ticks++;
  }, 5);
  const t0 = performance.now();
  try {
    const value = await work();
    const end = performance.now();
    longestGapMs = Math.max(longestGapMs, end - last);
    return { value, ticks, longestGapMs, totalMs: end - t0 };
  } finally {
    clearInterval(timer);
  }
}

describe('tokenizer training gives the event loop its turns', () => {
  for (const config of [{ kind: 'wordpiece', vocabSize: 3000 }, { kind: 'bpe', vocabSize: 3000 }] as const) {
    it(`${config.kind}: timers fire while it trains, and the vocabulary is the one trained in one go`, async () => {
      const r = await ticksDuring(() => trainTokenizerCooperatively(config, LINES));
      // without turns the timer could not fire before training ends: no tick, and one gap as long as the whole
      assert.ok(r.totalMs > 600, `training took ${r.totalMs.toFixed(0)} ms, too short to tell turns from none`);
      assert.ok(r.ticks >= 5, `${r.ticks} timer ticks in ${r.totalMs.toFixed(0)} ms of training`);
      // the slice is 50 ms; the bound leaves room for a shared machine
      assert.ok(r.longestGapMs < 400, `the event loop waited ${r.longestGapMs.toFixed(0)} ms at once (${r.totalMs.toFixed(0)} ms in all)`);
      assert.equal(r.value.id, trainTokenizer(config, LINES).id);
    });
  }

  it('a cancel stops it between turns, naming what stopped', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const t0 = performance.now();
    await assert.rejects(trainTokenizerCooperatively({ kind: 'wordpiece', vocabSize: 3000 }, LINES, { signal: controller.signal }), (e: EngineError) =>
      e.code === 'JOB_CANCELLED' && /training the tokenizer was cancelled/.test(e.message));
    assert.ok(performance.now() - t0 < 600, `stopped after ${(performance.now() - t0).toFixed(0)} ms`);
  });
});
