import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainTokenizer } from '../tokenizers';
import { BROWN_GENRE_LABELS, brownGenreSplit, passagesOf } from './brownGenreTask';

const tokenizer = trainTokenizer({ kind: 'wordpiece', vocabSize: 200 }, 'The jury said it did find that the city of Atlanta ran the election well.');

test('passages are full windows of the text, in order; a short tail is left out', () => {
  assert.deepEqual(passagesOf([1, 2, 3, 4, 5, 6, 7], 3), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(passagesOf([1, 2], 3), []);
});

test('Brown genres: 15 labels, split by document within each genre, seeded, every genre on both sides', async () => {
  const o = { bodyTokens: 62, testShare: 0.2, seed: 7, passagesPerDocument: 3 };
  const s = await brownGenreSplit(tokenizer, o);
  assert.equal(s.labels.length, 15);
  assert.deepEqual(s.labels, BROWN_GENRE_LABELS);
  const trainDocs = new Set(s.train.map((e) => e.unit));
  const testDocs = new Set(s.test.map((e) => e.unit));
  assert.equal(trainDocs.size + testDocs.size, 500, 'every text has a passage');
  assert.ok([...testDocs].every((d) => !trainDocs.has(d)), 'no document on both sides');
  assert.equal(testDocs.size, 100, '20% of each genre\'s texts, rounded');
  assert.ok(s.balance.train.every((n) => n > 0) && s.balance.test.every((n) => n > 0), 'every genre on both sides');
  assert.deepEqual(s.balance.test.reduce((a, b) => a + b, 0), s.test.length);
  assert.ok([...s.train, ...s.test].every((e) => e.a.length === 62), 'fixed-length passages');
  assert.equal(s.train.length + s.test.length, 1500, '3 passages from each of 500 texts');
  const again = await brownGenreSplit(tokenizer, o);
  assert.deepEqual([...new Set(again.test.map((e) => e.unit))], [...testDocs], 'same seed, same documents held out');
  const other = await brownGenreSplit(tokenizer, { ...o, seed: 8 });
  assert.notDeepEqual([...new Set(other.test.map((e) => e.unit))], [...testDocs]);
});

test('passages longer than the shortest genre\'s texts are refused naming passageTokens', async () => {
  await assert.rejects(brownGenreSplit(tokenizer, { bodyTokens: 400_000, testShare: 0.2, seed: 1 }), /fewer than two texts with a full passage in .*; lower passageTokens/);
});
