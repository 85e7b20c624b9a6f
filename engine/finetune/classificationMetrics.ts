/**
 * Classification figures from predictions: accuracy, macro-F1 (the unweighted mean of per-class F1, so that
 * a rare genre counts as much as a common one), per-class precision / recall / F1 and the confusion matrix.
 * A class never predicted has precision 0, one absent from the test split recall 0 (scikit-learn's
 * zero_division=0), so the mean never turns NaN.
 */
import type { ClassStats } from '../../common/classificationReport';

export interface ClassificationFigures {
  accuracy: number;
  macroF1: number;
  perClass: ClassStats[];
  /** confusion[true][predicted] */
  confusion: number[][];
}

export function classificationFigures(labels: readonly string[], truth: ArrayLike<number>, predicted: ArrayLike<number>): ClassificationFigures {
  if (truth.length !== predicted.length) throw new Error(`classificationFigures: ${truth.length} true labels but ${predicted.length} predictions`);
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let right = 0;
  for (let i = 0; i < truth.length; i++) {
    confusion[truth[i]][predicted[i]] += 1;
    if (truth[i] === predicted[i]) right++;
  }
  const perClass = labels.map((label, c): ClassStats => {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c], 0);
    const precision = predictedAs ? tp / predictedAs : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  return {
    accuracy: truth.length ? right / truth.length : 0,
    macroF1: k ? perClass.reduce((a, s) => a + s.f1, 0) / k : 0,
    perClass,
    confusion,
  };
}
