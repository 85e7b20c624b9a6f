import { downsample, TailDownsampler, type Points } from './downsample';
import { equal, ok, test } from './testing';

function series(n: number): { x: Float64Array; y: Float64Array } {
  const x = Float64Array.from({ length: n }, (_, i) => i + 1);
  const y = Float64Array.from({ length: n }, (_, i) => 3 * Math.exp(-i / 20000) + 0.05 * Math.sin(i * 0.7));
  return { x, y };
}

/** the picture keeps its extremes: over each x range of width `w` from x[0], max and min equal the raw ones */
function assertKeepsExtremes(p: Points, x: Float64Array, y: Float64Array, n: number, w: number): void {
  const x0 = x[0];
  const bucketsToCheck = Math.ceil((x[n - 1] - x0) / w);
  for (let b = 0; b < bucketsToCheck; b++) {
    const lo = x0 + b * w, hi = b === bucketsToCheck - 1 ? Infinity : x0 + (b + 1) * w;
    let rawMax = -Infinity, rawMin = Infinity, dsMax = -Infinity, dsMin = Infinity;
    for (let i = 0; i < n; i++) if (x[i] >= lo && x[i] < hi) { rawMax = Math.max(rawMax, y[i]); rawMin = Math.min(rawMin, y[i]); }
    for (let i = 0; i < p.length; i++) if (p.x[i] >= lo && p.x[i] < hi) { dsMax = Math.max(dsMax, p.y[i]); dsMin = Math.min(dsMin, p.y[i]); }
    equal(dsMax, rawMax, `bucket ${b} max`); equal(dsMin, rawMin, `bucket ${b} min`);
  }
}

test('downsample of 100,000 points keeps first, last, the spike and the dip, in x order', () => {
  const n = 100_000;
  const { x, y } = series(n);
  y[31_337] = 50; // a loss spike
  y[77_777] = -5; // and a dip
  const p = downsample(x, y, 400);
  ok(p.length <= 1600 && p.length >= 400, `length ${p.length}`);
  equal(p.x[0], x[0]); equal(p.y[0], y[0]);
  equal(p.x[p.length - 1], x[n - 1]); equal(p.y[p.length - 1], y[n - 1]);
  ok(Array.from(p.x).includes(31_338) && Array.from(p.y).includes(50), 'spike kept');
  ok(Array.from(p.y).includes(-5), 'dip kept');
  for (let i = 1; i < p.length; i++) ok(p.x[i] > p.x[i - 1], 'x increasing');
  assertKeepsExtremes(p, x, y, n, (x[n - 1] - x[0]) / 400);
});

test('downsample of a sub-range covers exactly that range; short ranges come back whole', () => {
  const { x, y } = series(10_000);
  const p = downsample(x, y, 50, 2000, 6000);
  equal(p.x[0], x[2000]); equal(p.x[p.length - 1], x[5999]);
  const q = downsample(x, y, 50, 10, 90);
  equal(q.length, 80);
});

test('a bucket holding a NaN keeps it, so the line shows a gap', () => {
  const { x, y } = series(10_000);
  y[5000] = NaN;
  const p = downsample(x, y, 100);
  ok(Array.from(p.y).some(Number.isNaN));
});

test('the tail downsampler fed in batches keeps extremes, first and last, and stays near its target', () => {
  const n = 100_000;
  const { x, y } = series(n);
  y[12_345] = 99; y[99_000] = -7;
  const t = new TailDownsampler(300);
  let p: Points = { x: new Float64Array(0), y: new Float64Array(0), length: 0 };
  for (let done = 0; done < n; done += 100) {
    p = t.update(x, y, Math.min(n, done + 100));
    if (p.length) { equal(p.x[0], x[0]); equal(p.x[p.length - 1], x[Math.min(n, done + 100) - 1]); }
  }
  ok(p.length <= 4 * 600, `length ${p.length}`);
  ok(p.length >= 300, `length ${p.length}`);
  ok(Array.from(p.y).includes(99) && Array.from(p.y).includes(-7), 'extremes kept');
  for (let i = 1; i < p.length; i++) ok(p.x[i] > p.x[i - 1], 'x increasing');
  // its buckets are power-of-two multiples of the first spacing (1), aligned at x[0]
  assertKeepsExtremes(p, x, y, n, 1024);
});

test('the tail downsampler restarts when the series got shorter (a resumed run)', () => {
  const { x, y } = series(5000);
  const t = new TailDownsampler(100);
  t.update(x, y, 5000);
  const p = t.update(x, y, 1000);
  equal(p.x[p.length - 1], x[999]);
});
