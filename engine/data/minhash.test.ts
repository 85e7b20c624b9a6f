import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NearDuplicateIndex, chooseBands, jaccard, shingleSet } from './minhash';

const words = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `w${(i * 7919 + seed * 104729) % 5003}`);

test('shingles ignore case, punctuation and spacing; short texts are one shingle', () => {
  assert.deepEqual(shingleSet('The cat, the HAT.', 2), shingleSet('the   cat the\nhat', 2));
  assert.equal(shingleSet('one two', 5).length, 1);
  assert.equal(shingleSet('!!! ...', 5).length, 0);
});

test('jaccard of sorted sets', () => {
  assert.equal(jaccard(Uint32Array.from([1, 2, 3]), Uint32Array.from([2, 3, 4])), 0.5);
  assert.equal(jaccard(Uint32Array.from([1]), Uint32Array.from([1])), 1);
  assert.equal(jaccard(Uint32Array.from([1]), Uint32Array.from([2])), 0);
});

test('band choice finds pairs at the threshold almost surely', () => {
  const { bands, rows } = chooseBands(64, 0.8);
  assert.ok(bands * rows <= 64);
  assert.ok(1 - (1 - 0.8 ** rows) ** bands >= 0.995);
  assert.deepEqual(chooseBands(16, 1), { bands: 1, rows: 16 });
});

test('small edits are near-duplicates of the first copy; unrelated texts are not', () => {
  const index = new NearDuplicateIndex({ threshold: 0.8, shingle: 5, numPerm: 64 });
  const a = words(300, 1);
  assert.equal(index.add(a.join(' ')), null);
  assert.equal(index.add(words(300, 2).join(' ')), null);
  const edited = a.slice();
  edited[50] = 'changed';
  edited.splice(200, 1);
  edited.push('extra', 'words');
  const dup = index.add(edited.join(' '));
  assert.ok(dup && dup.index === 2 && dup.of === 0 && dup.similarity >= 0.8 && dup.similarity < 1, JSON.stringify(dup));
  // heavily edited: every 4th word replaced, well under 0.8
  const far = a.map((w, i) => (i % 4 === 0 ? `x${i}` : w));
  assert.equal(index.add(far.join(' ')), null);
});

test('detection repeats exactly', () => {
  const run = () => {
    const index = new NearDuplicateIndex({ threshold: 0.7, shingle: 3, numPerm: 32 });
    return Array.from({ length: 30 }, (_, i) => index.add(words(60, i % 10).join(' ') + (i >= 10 ? ` tail${i}` : ''))?.of ?? -1);
  };
  assert.deepEqual(run(), run());
});
