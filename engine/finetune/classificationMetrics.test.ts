import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classificationFigures } from './classificationMetrics';

test('accuracy, macro-F1, per-class figures and the confusion matrix match a hand count', () => {
  // truth a a a b b c ; predicted a a b b c c
  const f = classificationFigures(['a', 'b', 'c'], [0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2]);
  assert.deepEqual(f.confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
  assert.equal(f.accuracy, 4 / 6);
  const [a, b, c] = f.perClass;
  assert.deepEqual([a.precision, a.recall, a.support], [1, 2 / 3, 3]);
  assert.deepEqual([b.precision, b.recall, b.support], [1 / 2, 1 / 2, 2]);
  assert.deepEqual([c.precision, c.recall, c.support], [1 / 2, 1, 1]);
  const f1 = (p: number, r: number) => (2 * p * r) / (p + r);
  assert.ok(Math.abs(f.macroF1 - (f1(1, 2 / 3) + f1(0.5, 0.5) + f1(0.5, 1)) / 3) < 1e-12);
});

test('a class never predicted and never true scores 0, not NaN, and pulls macro-F1 down', () => {
  const f = classificationFigures(['a', 'b', 'unused'], [0, 1], [0, 1]);
  assert.equal(f.accuracy, 1);
  assert.deepEqual(f.perClass[2], { label: 'unused', precision: 0, recall: 0, f1: 0, support: 0 });
  assert.ok(Math.abs(f.macroF1 - 2 / 3) < 1e-12);
});

test('predictions and labels of different lengths are refused', () => {
  assert.throws(() => classificationFigures(['a'], [0, 0], [0]), /2 true labels but 1 predictions/);
});
