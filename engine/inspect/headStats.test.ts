/** The head statistics on attention matrices made by hand, whose values are known without the code. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inductionScores, layerStats } from './headStats';

/** [B=1, H, T, T] from per-head rows. */
const maps = (...heads: number[][][]) => Float32Array.from(heads.flat(2));
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} ≠ ${b}`);

describe('layerStats', () => {
  const T = 4;
  // head 0: every query on the first token; head 1: every query on the token before it (the first on itself);
  // head 2: causal uniform (query q spreads over q+1 keys)
  const first = [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]];
  const previous = [[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]];
  const uniform = [[1, 0, 0, 0], [0.5, 0.5, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0], [0.25, 0.25, 0.25, 0.25]];
  const s = layerStats(maps(first, previous, uniform), 3, { B: 1, T });

  it('entropy: 0 for one-hot rows, the mean of ln(q+1) for causal uniform rows', () => {
    close(s.entropy[0], 0, 'first');
    close(s.entropy[1], 0, 'previous');
    close(s.entropy[2], (0 + Math.log(2) + Math.log(3) + Math.log(4)) / 4, 'uniform');
  });
  it('mean distance: q on average for the first-token head, (T-1)/T·1 for the previous-token one', () => {
    close(s.meanDistance[0], (0 + 1 + 2 + 3) / 4, 'first');
    close(s.meanDistance[1], (0 + 1 + 1 + 1) / 4, 'previous');
    close(s.meanDistance[2], (0 + 0.5 + 1 + 1.5) / 4, 'uniform: q/2 for query q');
  });
  it('first-token share and previous-token score', () => {
    close(s.firstTokenShare[0], 1, 'first');
    close(s.firstTokenShare[1], 0.5, 'previous: queries 0 and 1 sit on position 0');
    close(s.previousToken[1], 1, 'previous');
    close(s.previousToken[0], 1 / 3, 'first: only query 1 has its previous token first');
    close(s.previousToken[2], (0.5 + 1 / 3 + 0.25) / 3, 'uniform');
  });
  it('share on [CLS]/[SEP], and none measured when the input has neither', () => {
    assert.equal(s.specialShare, null);
    const withSpecial = layerStats(maps(first, previous, uniform), 3, { B: 1, T, special: [1, 0, 0, 1] });
    close(withSpecial.specialShare![0], 1, 'first token is [CLS]');
    close(withSpecial.specialShare![2], (1 + 0.5 + 1 / 3 + 0.5) / 4, 'uniform: [CLS] and the last [SEP]');
  });
  it('padding queries and keys do not count', () => {
    // one bidirectional head of a sequence whose last position is padding: the real rows spread evenly over 3 keys
    const p = [[1 / 3, 1 / 3, 1 / 3, 0], [1 / 3, 1 / 3, 1 / 3, 0], [1 / 3, 1 / 3, 1 / 3, 0], [0.25, 0.25, 0.25, 0.25]];
    const m = layerStats(maps(p), 1, { B: 1, T, mask: [1, 1, 1, 0] });
    close(m.entropy[0], Math.log(3), 'entropy over the 3 real keys of the 3 real queries');
    close(m.firstTokenShare[0], 1 / 3, 'first');
  });
  it('refuses maps whose size is not B·H·T·T', () => {
    assert.throws(() => layerStats(new Float32Array(10), 1, { B: 1, T: 4 }), /B·H·T·T/);
  });
});

describe('inductionScores', () => {
  it('is 1 for a head that attends to the token after the previous occurrence, 0 for a previous-token head', () => {
    const period = 3, T = 6;
    const induction = Array.from({ length: T }, (_, q) => Array.from({ length: T }, (_, k) => (q >= period ? (k === q - period + 1 ? 1 : 0) : (k === 0 ? 1 : 0))));
    const previous = Array.from({ length: T }, (_, q) => Array.from({ length: T }, (_, k) => (k === Math.max(0, q - 1) ? 1 : 0)));
    const [ind, prev] = inductionScores(maps(induction, previous), 1, 2, T, period);
    close(ind, 1, 'induction head');
    close(prev, 0, 'previous-token head');
  });
  it('refuses a period that does not fit twice', () => {
    assert.throws(() => inductionScores(new Float32Array(16), 1, 1, 4, 3), /do not fit/);
  });
});
