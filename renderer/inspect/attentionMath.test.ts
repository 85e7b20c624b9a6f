import { deepEqual, equal, ok, test } from '../dashboards/testing';
import { attentionLines, gridLayout, gridRange, headOrder, hitGrid, maskedKeys, summedAttention, toggleQuery } from './attentionMath';
import { HEAT_TABLE, MASKED_RGB, heatRgb, statRgb } from './colormap';
import { curvePoints } from './HeadCurves';

// a 3×3 causal map: rows are queries
const MAP = Float32Array.from([1, 0, 0, 0.25, 0.75, 0, 0.5, 0.125, 0.375]);

test('orders heads layer by layer, or sorted by a statistic with missing values last', () => {
  deepEqual(headOrder(2, 2, null, true).map((h) => `${h.layer}.${h.head}`), ['0.0', '0.1', '1.0', '1.1']);
  const grid = [[0.5, 2], [NaN, 1]];
  deepEqual(headOrder(2, 2, grid, true).map((h) => `${h.layer}.${h.head}`), ['0.1', '1.1', '0.0', '1.0']);
  deepEqual(headOrder(2, 2, grid, false).map((h) => `${h.layer}.${h.head}`), ['0.0', '0.1', '1.0', '1.1']);
  deepEqual(gridRange(grid), [0.5, 2]);
  deepEqual(gridRange(null), [0, 0]);
});

test('lays 12 × 12 heads out one layer per row, and finds the head under the pointer, not in a gap', () => {
  const g = gridLayout(12, 12, 900, false);
  equal(g.cols, 12);
  equal(g.rows, 12);
  ok(g.width <= 900 && g.cell >= 24, JSON.stringify(g));
  equal(hitGrid(g, 1, 1, 144), 0);
  equal(hitGrid(g, g.cell + g.gap + 1, 2 * (g.cell + g.gap) + 1, 144), 25);
  equal(hitGrid(g, g.cell + 1, 1, 144), null, 'the gap between two thumbnails');
  equal(hitGrid(g, -1, 1, 144), null);
  const sorted = gridLayout(2, 3, 120, true);
  deepEqual([sorted.cols, sorted.rows, sorted.cell], [2, 3, 58], 'sorted: as many 48-pixel cells as fit, widened to the row');
  equal(hitGrid(sorted, 63, 125, 6), 5);
  equal(hitGrid(sorted, 63, 125, 5), null, 'past the last head');
});

test('sums the attention of the selected queries; none selected is the mean over queries', () => {
  deepEqual(Array.from(summedAttention(MAP, 3, [1, 2])), [0.75, 0.875, 0.375]);
  deepEqual(Array.from(summedAttention(MAP, 3, [2, 2, 7])), [0.5, 0.125, 0.375], 'repeats and positions past the end do not count');
  deepEqual(Array.from(summedAttention(MAP, 3, [])), [1.75 / 3, 0.875 / 3, 0.375 / 3].map((x) => Math.fround(x)));
});

test('marks the keys hidden from every selected query in a causal model, none in a bidirectional one', () => {
  deepEqual(maskedKeys(true, 3, [0]), [false, true, true]);
  deepEqual(maskedKeys(true, 3, [0, 1]), [false, false, true]);
  deepEqual(maskedKeys(false, 3, [0]), [false, false, false]);
});

test('draws the heaviest lines last, keeps only weights from the threshold, and caps their number', () => {
  const lines = attentionLines(MAP, 3, [], 0.2);
  deepEqual(lines.map((l) => l.w), [0.25, 0.375, 0.5, 0.75, 1]);
  deepEqual(attentionLines(MAP, 3, [2], 0.2).map((l) => `${l.q}>${l.k}`), ['2>2', '2>0']);
  deepEqual(attentionLines(MAP, 3, [], 0, 2).map((l) => l.w), [0.75, 1]);
});

test('selects query rows: a click alone replaces the selection (or clears its only row), with Shift it adds or removes', () => {
  deepEqual(toggleQuery([], 2, false), [2]);
  deepEqual(toggleQuery([2], 2, false), []);
  deepEqual(toggleQuery([1, 2], 2, false), [2]);
  deepEqual(toggleQuery([3], 1, true), [1, 3]);
  deepEqual(toggleQuery([1, 3], 3, true), [1]);
});

test('colours: the attention ramp runs light to dark and never reaches the masked grey; statistics run blue to red', () => {
  const lum = ([r, g, b]: number[]) => 0.3 * r + 0.59 * g + 0.11 * b;
  ok(lum(heatRgb(0)) > lum(heatRgb(0.5)) && lum(heatRgb(0.5)) > lum(heatRgb(1)));
  for (let i = 0; i < 256; i++) ok([HEAT_TABLE[i * 3], HEAT_TABLE[i * 3 + 1], HEAT_TABLE[i * 3 + 2]].join() !== MASKED_RGB.join(), `ramp entry ${i} is the masked grey`);
  const [lo, hi] = [statRgb(0, 0, 1), statRgb(1, 0, 1)];
  ok(lo[2] > lo[0] && hi[0] > hi[2]);
});

test('curves: points scaled into the box, nulls skipped', () => {
  equal(curvePoints([0, 5, 10], [1, null, 3], 100, 50), '0.0,50.0 100.0,0.0');
  equal(curvePoints([0], [null], 100, 50), '');
});
