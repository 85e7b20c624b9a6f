import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeBalance, evenlySpaced, heldOutUnits, packBatch, truncatePair } from './classificationData';
import { Rng } from '../util/random';

test('held-out units: the share of each group, at least one, never the whole group', () => {
  const groups = new Map<string, number[]>([['big', Array.from({ length: 10 }, (_, i) => i)], ['two', [10, 11]], ['one', [12]]]);
  const test = heldOutUnits(groups, 0.2, new Rng(1));
  assert.equal([...test].filter((u) => u < 10).length, 2);
  assert.equal([...test].filter((u) => u === 10 || u === 11).length, 1);
  assert.ok(!test.has(12), 'a group of one stays on the training side');
});

test('evenly spaced picks span the list; pairs are cut longer text first', () => {
  assert.deepEqual(evenlySpaced([0, 1, 2, 3, 4, 5, 6, 7], 4), [0, 2, 4, 6]);
  assert.deepEqual(evenlySpaced([1, 2], 5), [1, 2]);
  assert.deepEqual(truncatePair([1, 2, 3, 4, 5], [6, 7], 5), { a: [1, 2, 3], b: [6, 7] });
  assert.deepEqual(truncatePair([1, 2, 3], undefined, 2), { a: [1, 2] });
});

test('a BERT batch is [CLS] a [SEP] b [SEP] with token types and padding; a GPT batch is the text, right-padded', () => {
  const sp = { pad: 0, cls: 2, sep: 3 };
  const ex = [{ a: [10, 11], b: [12], label: 1, unit: 0 }, { a: [13], label: 0, unit: 1 }];
  const b = packBatch(ex, 'bert', sp);
  assert.equal(b.T, 6);
  assert.deepEqual([...b.inputIds], [2, 10, 11, 3, 12, 3, 2, 13, 3, 0, 0, 0]);
  assert.deepEqual([...b.tokenTypeIds], [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...b.attentionMask], [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual([...b.classLabels], [1, 0]);
  const g = packBatch(ex, 'gpt', {});
  assert.deepEqual([...g.inputIds], [10, 11, 12, 13, 0, 0]);
  assert.deepEqual([...g.attentionMask], [1, 1, 1, 1, 0, 0]);
  assert.throws(() => packBatch(ex, 'bert', {}), /needs \[CLS\] and \[SEP\]/);
});

test('the class balance is one line per label with both sides and totals', () => {
  const text = describeBalance({ labels: ['a', 'bb'], train: [3, 4], test: [1, 2], trainUnits: 5, testUnits: 2, unit: 'document' });
  assert.match(text, /5 documents train, 2 test/);
  assert.match(text, /a\s+3\s+1\n/);
  assert.match(text, /total\s+7\s+3$/);
});
