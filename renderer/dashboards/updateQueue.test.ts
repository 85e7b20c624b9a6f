import { ChartUpdateQueue, type FrameScheduler } from './updateQueue';
import { deepEqual, equal, test } from './testing';

/** frames run by hand: `step()` runs the one pending callback */
function manualFrames(): FrameScheduler & { step(): boolean } {
  let pending: (() => void) | null = null;
  let n = 0;
  return {
    request(cb) { pending = cb; return ++n; },
    cancel() { pending = null; },
    step() { const cb = pending; pending = null; cb?.(); return cb !== null; },
  };
}

test('every chart is updated once per notification, one chart per frame', () => {
  const frames = manualFrames();
  const seen: string[] = [];
  const q = new ChartUpdateQueue([(c) => seen.push(`a:${[...c]}`), (c) => seen.push(`b:${[...c]}`)], frames);
  q.notify(new Set(['r']));
  frames.step();
  deepEqual(seen, ['a:r']);
  frames.step();
  deepEqual(seen, ['a:r', 'b:r']);
  equal(frames.step(), false, 'nothing left to do:');
});

test('points that arrive while the charts are being updated reach the charts already updated too', () => {
  // after a reload: the run's start time arrives first (no points yet), its metrics.jsonl a moment later,
  // while the queue is still working through the charts — the loss chart, updated first, must not keep
  // saying "no data yet"
  const frames = manualFrames();
  const seen: string[] = [];
  const q = new ChartUpdateQueue([(c) => seen.push(`loss:${[...c]}`), (c) => seen.push(`lr:${[...c]}`), (c) => seen.push(`grad:${[...c]}`)], frames);
  q.notify(new Set(['r']));
  frames.step(); // loss: no points yet
  q.notify(new Set(['r'])); // the points
  while (frames.step()) { /* drain */ }
  equal(seen.filter((s) => s.startsWith('loss')).length, 2, 'the loss chart is updated again after the points arrived:');
  equal(seen.filter((s) => s.startsWith('lr')).length, 1, 'a chart not yet updated is updated once, with every change:');
});

test('a run changed mid-queue is named to the charts that update after it, and the earlier ones', () => {
  const frames = manualFrames();
  const seen: string[] = [];
  const q = new ChartUpdateQueue([(c) => seen.push(`a:${[...c].sort()}`), (c) => seen.push(`b:${[...c].sort()}`)], frames);
  q.notify(new Set(['r1']));
  frames.step();
  q.notify(new Set(['r2']));
  while (frames.step()) { /* drain */ }
  deepEqual(seen, ['a:r1', 'b:r1,r2', 'a:r2']);
});

test('dispose stops what is queued', () => {
  const frames = manualFrames();
  let calls = 0;
  const q = new ChartUpdateQueue([() => calls++, () => calls++], frames);
  q.notify(new Set(['r']));
  q.dispose();
  while (frames.step()) { /* nothing */ }
  equal(calls, 0);
});
