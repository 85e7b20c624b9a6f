import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PretrainConfig, type PretrainConfigInput } from './pretrainConfig';

/** The messages for an impossible pretrain config, by field path. */
function issues(c: PretrainConfigInput): Record<string, string> {
  const r = PretrainConfig.safeParse(c);
  assert.equal(r.success, false, `accepted ${JSON.stringify(c)}`);
  return Object.fromEntries(r.error!.issues.map((i) => [i.path.join('.'), i.message]));
}

describe('pretrain config', () => {
  it('fills nanoGPT\'s shakespeare_char defaults', () => {
    const c = PretrainConfig.parse({});
    assert.deepEqual([c.steps, c.batchSize, c.optimizer.lr, c.schedule.kind, c.schedule.warmupSteps, c.schedule.minLr], [2000, 12, 1e-3, 'cosine', 100, 1e-4]);
  });

  it('refuses schedules that cannot do what they say, naming the field and the fix', () => {
    assert.match(issues({ optimizer: { lr: 1e-3 }, schedule: { minLr: 1e-2 } })['schedule.minLr'], /above optimizer\.lr .*lower minLr/);
    assert.match(issues({ steps: 50 })['schedule.warmupSteps'], /warmupSteps 100 is longer than the run's 50 steps.*lower warmupSteps or raise steps/);
    assert.match(issues({ steps: 500, schedule: { warmupSteps: 20, decaySteps: 10 } })['schedule.decaySteps'], /decaySteps 10 ends the decay before the warmup of 20 steps/);
    // a constant schedule has no decay to end, and a warmup as long as the run is allowed
    assert.equal(PretrainConfig.safeParse({ steps: 500, schedule: { kind: 'constant', warmupSteps: 20, decaySteps: 10 } }).success, true);
    assert.equal(PretrainConfig.safeParse({ steps: 100 }).success, true);
  });

  it('reports the root cause only: a field that fails its own check is not compared with another', () => {
    assert.deepEqual(Object.keys(issues({ optimizer: { lr: -0.001 } })), ['optimizer.lr']);
    assert.deepEqual(Object.keys(issues({ steps: 0 })), ['steps']);
    assert.deepEqual(Object.keys(issues({ schedule: { warmupSteps: -1 } })), ['schedule.warmupSteps']);
  });
});
