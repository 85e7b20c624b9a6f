import { ema, IncrementalEma } from './smoothing';
import { close, equal, ok, test } from './testing';

function noisy(n: number, seed = 1): Float64Array {
  let s = seed;
  const rnd = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
  return Float64Array.from({ length: n }, (_, i) => 5 * Math.exp(-i / 300) + 0.3 * rnd());
}

test('ema matches TensorBoard\'s debiased formula on a hand-worked series', () => {
  const w = 0.6;
  const s = ema([1, 2, 4], w);
  // last_1 = 0.4, debias 1-0.6 → 1; last_2 = 0.24+0.8 = 1.04, /(1-0.36) = 1.625; last_3 = 0.624+1.6 = 2.224, /(1-0.216)
  close(s[0], 1); close(s[1], 1.625); close(s[2], 2.224 / 0.784);
});

test('ema with weight 0 is the series itself; the first smoothed point is the first value', () => {
  const v = noisy(50);
  const s0 = ema(v, 0);
  v.forEach((x, i) => close(s0[i], x));
  for (const w of [0.5, 0.9, 0.99, 0.999]) close(ema(v, w)[0], v[0]);
});

test('appending points never changes earlier smoothed values (the prefix property)', () => {
  const v = noisy(2000);
  for (const w of [0.3, 0.9, 0.999]) {
    const full = ema(v, w);
    for (const cut of [1, 10, 333, 1999]) {
      const part = ema(v.subarray(0, cut), w);
      for (let i = 0; i < cut; i++) equal(part[i], full[i], `w=${w} cut=${cut} i=${i}`);
    }
  }
});

test('incremental ema over growing batches equals ema over the whole series, bit for bit', () => {
  const v = noisy(5000);
  const inc = new IncrementalEma(0.95);
  let out: Float64Array = new Float64Array(0);
  for (let n = 0; n < v.length; n += 137) out = inc.update(v, Math.min(v.length, n + 137));
  const full = ema(v, 0.95);
  for (let i = 0; i < v.length; i++) equal(out[i], full[i], `i=${i}`);
});

test('non-finite values pass through and do not poison later smoothed points', () => {
  const s = ema([1, NaN, 1, Infinity, 1], 0.9);
  ok(Number.isNaN(s[1])); equal(s[3], Infinity);
  close(s[2], 1); close(s[4], 1);
});

test('weights above 0.999 are held at 0.999 (1 would never move)', () => {
  const a = ema([1, 2, 3], 1), b = ema([1, 2, 3], 0.999);
  for (let i = 0; i < 3; i++) equal(a[i], b[i]);
});
