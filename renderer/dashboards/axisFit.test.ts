import { axisFormat, fitAxis, formatExp, niceStep } from './axisFit';
import { deepEqual, equal, ok, test } from './testing';

test('a log axis fits a loss from 4.2 to 2.5 with ticks in between, not 1 and 10', () => {
  const f = fitAxis(2.5, 4.2, true)!;
  ok(f.min < 2.5 && f.min > 2.3 && f.max > 4.2 && f.max < 4.5, `${f.min}–${f.max}`);
  deepEqual(f.ticks, [2.5, 3, 3.5, 4]);
  deepEqual(f.ticks.map(f.format), ['2.5', '3.0', '3.5', '4.0']);
});

test('a gradient norm from 0.6 to 2.7 on a log axis', () => {
  deepEqual(fitAxis(0.6, 2.7, true)!.ticks, [0.7, 1, 1.5, 2]);
});

test('a log axis over many decades ticks powers of ten, thinned', () => {
  deepEqual(fitAxis(0.01, 10, true)!.ticks, [0.01, 0.1, 1, 10]);
  const wide = fitAxis(1e-9, 1e6, true)!.ticks;
  ok(wide.length <= 8 && wide.length >= 4, wide.join(' '));
});

test('a narrow log range gets linear ticks inside it', () => {
  const f = fitAxis(2.8, 2.85, true)!;
  ok(f.ticks.length >= 3, f.ticks.join(' '));
  ok(f.ticks.every((t) => t >= f.min && t <= f.max));
});

test('a linear axis has round bounds and steps', () => {
  const f = fitAxis(2.45, 4.25, false)!;
  deepEqual([f.min, f.max], [2, 4.5]);
  deepEqual(f.ticks, [2, 2.5, 3, 3.5, 4, 4.5]);
  const flat = fitAxis(3, 3, false)!;
  ok(flat.min < 3 && flat.max > 3);
  equal(fitAxis(Infinity, -Infinity, false), null);
  equal(fitAxis(0, 1, true), null);
});

test('learning-rate labels share one compact format', () => {
  const f = fitAxis(5e-5, 1e-3, false)!;
  deepEqual(f.ticks.map(f.format), ['0', '2e−4', '4e−4', '6e−4', '8e−4', '1e−3']);
});

test('formats', () => {
  equal(niceStep(0.36), 0.5);
  equal(niceStep(1.9e-4), 2e-4);
  equal(formatExp(2.5e-4), '2.5e−4');
  equal(formatExp(9.999e-4), '1e−3');
  deepEqual([10000, 20000, 70000].map(axisFormat([0, 70000])), ['10k', '20k', '70k']);
});
