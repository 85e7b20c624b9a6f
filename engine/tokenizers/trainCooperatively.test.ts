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
      // without turns the timer could not fire before training ends: no tick, and one gap as long as the whole.
      // With them (a 50 ms slice) it ticks throughout; the bounds are relative, so that a loaded machine passes too
      assert.ok(r.totalMs > 200, `training took ${r.totalMs.toFixed(0)} ms, too short to tell turns from none`);
      assert.ok(r.ticks >= 3, `${r.ticks} timer ticks in ${r.totalMs.toFixed(0)} ms of training`);
      assert.ok(r.longestGapMs < r.totalMs / 2, `the event loop waited ${r.longestGapMs.toFixed(0)} ms at once (${r.totalMs.toFixed(0)} ms in all)`);
      assert.equal(r.value.id, trainTokenizer(config, LINES).id);
    });
  }

  it('a cancel stops it between turns, naming what stopped', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    setTimeout(() => { abortedAt = performance.now(); controller.abort(); }, 100);
    await assert.rejects(trainTokenizerCooperatively({ kind: 'wordpiece', vocabSize: 3000 }, LINES, { signal: controller.signal }), (e: EngineError) =>
      e.code === 'JOB_CANCELLED' && /training the tokenizer was cancelled/.test(e.message));
    assert.ok(abortedAt > 0 && performance.now() - abortedAt < 1000, `stopped ${(performance.now() - abortedAt).toFixed(0)} ms after the cancel`);
  });
});
