import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { learningRate, type LrSchedule } from './schedule';

describe('learning-rate schedules', () => {
  const base = { lr: 1e-3, minLr: 1e-4, warmupIters: 10, decayIters: 110 };

  it('warm up linearly from lr/(warmup+1), never at zero', () => {
    for (const kind of ['cosine', 'linear', 'constant'] as const) {
      const s = { kind, ...base } as LrSchedule;
      assert.ok(Math.abs(learningRate(s, 0) - 1e-3 / 11) < 1e-15, kind);
      assert.ok(Math.abs(learningRate(s, 9) - 1e-3 * 10 / 11) < 1e-15, kind);
    }
  });

  it('cosine: lr at the end of warmup, midpoint halfway, minLr from decayIters on', () => {
    const s: LrSchedule = { kind: 'cosine', ...base };
    assert.equal(learningRate(s, 10), 1e-3);
    assert.ok(Math.abs(learningRate(s, 60) - (1e-4 + 0.5 * 9e-4)) < 1e-15);
    assert.ok(Math.abs(learningRate(s, 110) - 1e-4) < 1e-15);
    assert.equal(learningRate(s, 5000), 1e-4);
  });

  it('linear: a straight line from lr to minLr', () => {
    const s: LrSchedule = { kind: 'linear', ...base };
    assert.equal(learningRate(s, 10), 1e-3);
    assert.ok(Math.abs(learningRate(s, 35) - (1e-3 - 0.25 * 9e-4)) < 1e-15);
    assert.ok(Math.abs(learningRate(s, 110) - 1e-4) < 1e-15);
    assert.equal(learningRate(s, 111), 1e-4);
  });

  it('constant: lr after warmup, and from the start without one', () => {
    assert.equal(learningRate({ kind: 'constant', lr: 3e-4, warmupIters: 5 }, 5), 3e-4);
    assert.equal(learningRate({ kind: 'constant', lr: 3e-4 }, 0), 3e-4);
  });

  it('a decay that ends where warmup ends holds minLr', () => {
    const s: LrSchedule = { kind: 'cosine', lr: 1, minLr: 0.1, warmupIters: 10, decayIters: 10 };
    assert.equal(learningRate(s, 10), 0.1);
    assert.ok(Number.isFinite(learningRate(s, 10)));
  });

});
