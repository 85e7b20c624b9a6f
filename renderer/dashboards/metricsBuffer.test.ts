import type { RunEvent } from '../../common/runEvents';
import { MetricsBuffer } from './metricsBuffer';
import { deepEqual, equal, ok, test } from './testing';

/** a fake clock: scheduled callbacks run when `advance` passes their time */
function fakeClock() {
  let t = 0;
  const timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => t,
    schedule: (fn: () => void, ms: number) => { timers.push({ at: t + ms, fn }); },
    advance(ms: number) {
      const end = t + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        t = next.at;
        next.fn();
      }
      t = end;
    },
  };
}

const step = (s: number, loss: number, extra: Record<string, number | null> = {}): RunEvent =>
  ({ type: 'step', step: s, totalSteps: 1000, tokens: s * 512, etaSeconds: 10, scalars: { 'train/loss': loss, ...extra } });

test('columns grow by doubling and keep every point in order', () => {
  const b = new MetricsBuffer({ schedule: () => {} });
  const caps: number[] = [];
  for (let s = 1; s <= 5000; s++) {
    b.ingestRunEvents('r', [step(s, 1 / s)]);
    const cap = b.series('r', 'train/loss')!.step.length;
    if (caps[caps.length - 1] !== cap) caps.push(cap);
  }
  const ser = b.series('r', 'train/loss')!;
  equal(ser.length, 5000);
  for (let i = 1; i < caps.length; i++) equal(caps[i], caps[i - 1] * 2);
  for (let i = 0; i < 5000; i++) { equal(ser.step[i], i + 1); equal(ser.tokens[i], (i + 1) * 512); equal(ser.value[i], 1 / (i + 1)); }
});

test('subscribers hear at most once per 100 ms however fast batches arrive, and never miss the last one', () => {
  const clock = fakeClock();
  const b = new MetricsBuffer({ now: clock.now, schedule: clock.schedule });
  const calls: number[] = [];
  b.subscribe(() => calls.push(clock.now()));
  let s = 0;
  for (let ms = 0; ms < 1000; ms += 5) { // 200 batches a second
    b.ingestRunEvents('r', [step(++s, 1)]);
    clock.advance(5);
  }
  clock.advance(200);
  ok(calls.length <= 11 && calls.length >= 9, `notified ${calls.length} times`);
  for (let i = 1; i < calls.length; i++) ok(calls[i] - calls[i - 1] >= 100, `gap ${calls[i] - calls[i - 1]}`);
  equal(b.version, calls.length);
  equal(b.series('r', 'train/loss')!.length, 200);
});

test('listeners get the ids of the runs that changed', () => {
  const clock = fakeClock();
  const b = new MetricsBuffer({ now: clock.now, schedule: clock.schedule });
  const seen: string[][] = [];
  b.subscribe((runs) => seen.push([...runs].sort()));
  b.ingestRunEvents('a', [step(1, 1)]);
  b.ingestRunEvents('b', [step(1, 1)]);
  clock.advance(1);
  deepEqual(seen, [['a', 'b']]);
});

test('a resumed run reporting earlier steps again replaces the tail; history arriving late is merged in order', () => {
  const b = new MetricsBuffer({ schedule: () => {} });
  b.ingestRunEvents('r', Array.from({ length: 10 }, (_, i) => step(i + 1, 10 - i)));
  b.ingestRunEvents('r', [step(6, 0.5), step(7, 0.4)]);
  const ser = b.series('r', 'train/loss')!;
  deepEqual(Array.from(ser.step.subarray(0, ser.length)), [1, 2, 3, 4, 5, 6, 7]);
  equal(ser.value[5], 0.5);
  const h = new MetricsBuffer({ schedule: () => {} });
  h.ingestRunEvents('r', [step(5, 1), step(6, 1)]);
  h.ingestMetrics('r', [1, 2, 3, 4, 5].map((s) => ({ step: s, wallTime: 1000 + s, tokens: s * 512, scalars: { 'train/loss': 2 } })));
  const hs = h.series('r', 'train/loss')!;
  deepEqual(Array.from(hs.step.subarray(0, hs.length)), [1, 2, 3, 4, 5, 6]);
});

test('eval events and diagnostics land where the charts and banners read them; null becomes NaN', () => {
  const b = new MetricsBuffer({ schedule: () => {} });
  b.ingestRunEvents('r', [
    step(100, 2.5, { 'grad/global_norm': null }),
    { type: 'eval', step: 100, train: { loss: 2.4, perplexity: 11 }, val: { loss: 2.6, perplexity: 13.5, mlmAccuracy: 0.3 } },
    { type: 'diagnostic', diagnostic: { kind: 'exploding-gradients', severity: 'warning', step: 100, message: 'm', advice: 'a' } },
    { type: 'diagnostic', diagnostic: { kind: 'exploding-gradients', severity: 'warning', step: 100, message: 'm', advice: 'a' } },
  ]);
  equal(b.series('r', 'val/loss')!.value[0], 2.6);
  equal(b.series('r', 'val/mlm_accuracy')!.value[0], 0.3);
  equal(b.series('r', 'train/eval_loss')!.value[0], 2.4);
  ok(Number.isNaN(b.series('r', 'grad/global_norm')!.value[0]));
  equal(b.run('r')!.diagnostics.length, 1);
  equal(b.run('r')!.progress.totalSteps, 1000);
});

test('a batch of steps spreads over wall time by progress/elapsed_s', () => {
  const b = new MetricsBuffer({ schedule: () => {} });
  b.ingestRunEvents('r', [1, 2, 3].map((s) => step(s, 1, { 'progress/elapsed_s': s * 0.5 })), 1000);
  const ser = b.series('r', 'train/loss')!;
  deepEqual(Array.from(ser.wall.subarray(0, 3)), [999, 999.5, 1000]);
});
