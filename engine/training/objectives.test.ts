import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/random';
import { IGNORE, causalLmBatch, maskSequence, mlmNspBatch, nspPair, type SpecialIds, type TokenizedDocument } from './objectives';

const SP: SpecialIds = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 };

/** Token ids that say where they come from: doc·10000 + sentence·100 + position (+ 10 to stay clear of specials). */
const code = (d: number, s: number, p: number) => 10 + d * 10000 + s * 100 + p;
const where = (t: number) => ({ d: Math.floor((t - 10) / 10000), s: Math.floor(((t - 10) % 10000) / 100), p: (t - 10) % 100 });
const order = (t: number) => (t - 10) % 10000; // position in document order

function documents(n: number, rng: Rng): TokenizedDocument[] {
  return Array.from({ length: n }, (_, d) => Array.from({ length: 2 + rng.int(8) }, (_, s) => Array.from({ length: 3 + rng.int(12) }, (_, p) => code(d, s, p))));
}

describe('causal LM batches', () => {
  it('labels are the inputs shifted by one token of the stream', () => {
    const stream = Int32Array.from({ length: 500 }, (_, i) => i);
    const b = causalLmBatch(stream, 4, 16, new Rng(1));
    for (let i = 0; i < b.inputIds.length; i++) assert.equal(b.labels[i], b.inputIds[i] + 1);
    assert.throws(() => causalLmBatch(stream.subarray(0, 10), 1, 16, new Rng(1)), /fewer than one sequence/);
  });
});

describe('masked LM', () => {
  it('chooses 15% of real tokens; 80% [MASK], 10% random, 10% kept', () => {
    const rng = new Rng(3);
    let real = 0, chosen = 0, masked = 0, random = 0, kept = 0;
    for (let n = 0; n < 2000; n++) {
      const original = Int32Array.from({ length: 64 }, (_, i) => (i === 0 ? SP.cls : i > 60 ? SP.pad : 10 + rng.int(990)));
      const ids = original.slice();
      const labels = maskSequence(ids, { probability: 0.15, vocabSize: 1000, specials: SP }, rng);
      real += 60;
      assert.equal(labels.filter((l) => l !== IGNORE).length, 9, 'exactly round(15% of 60) per sequence');
      for (let i = 0; i < ids.length; i++) {
        if (labels[i] === IGNORE) { assert.equal(ids[i], original[i], 'unchosen tokens are untouched'); continue; }
        assert.ok(i >= 1 && i <= 60, 'specials and padding are never chosen');
        assert.equal(labels[i], original[i]);
        chosen++;
        if (ids[i] === SP.mask) masked++;
        else if (ids[i] === original[i]) kept++;
        else { random++; assert.ok(ids[i] >= 5, 'random replacements are never special tokens'); }
      }
    }
    // 18,000 chosen: one standard error of the 80% share is 0.3 points; allow ±1.5 points
    assert.ok(Math.abs(masked / chosen - 0.8) < 0.015, `masked ${masked / chosen}`);
    assert.ok(Math.abs(random / chosen - 0.1) < 0.012, `random ${random / chosen}`);
    assert.ok(Math.abs(kept / chosen - 0.1) < 0.012, `kept ${kept / chosen}`);
  });
});

describe('next-sentence prediction', () => {
  it('pairs true continuations from the same document and random ones from another, half and half', () => {
    const rng = new Rng(5);
    const docs = documents(30, rng);
    let randomNext = 0;
    const N = 4000;
    for (let n = 0; n < N; n++) {
      const { a, b, isRandomNext } = nspPair(docs, rng, 40);
      assert.ok(a.length >= 1 && b.length >= 1 && a.length + b.length <= 40);
      const da = new Set(a.map((t) => where(t).d));
      assert.equal(da.size, 1, 'A comes from one document');
      const db = new Set(b.map((t) => where(t).d));
      assert.equal(db.size, 1, 'B comes from one document');
      for (const seg of [a, b]) for (let i = 1; i < seg.length; i++) assert.ok(order(seg[i]) > order(seg[i - 1]), 'each segment is in document order');
      if (isRandomNext) {
        randomNext++;
        assert.notEqual([...db][0], [...da][0], 'a random next segment comes from another document');
      } else {
        assert.equal([...db][0], [...da][0], 'a true next segment comes from the same document');
        assert.ok(order(b[0]) > order(a[a.length - 1]), 'and follows A');
        assert.ok(where(b[0]).s > where(a[a.length - 1]).s || where(b[0]).p > 0, 'B starts after the sentences of A');
      }
    }
    assert.ok(Math.abs(randomNext / N - 0.5) < 0.03, `random-next share ${randomNext / N}`);
  });

  it('packs [CLS] A [SEP] B [SEP] with token types, padding and a mask', () => {
    const rng = new Rng(8);
    const docs = documents(10, rng);
    const T = 32;
    const batch = mlmNspBatch(docs, 6, T, { probability: 0.15, vocabSize: 100_000, specials: SP }, rng);
    for (let r = 0; r < 6; r++) {
      const row = (x: Int32Array) => Array.from(x.subarray(r * T, (r + 1) * T));
      const ids = row(batch.inputIds), types = row(batch.tokenTypeIds), mask = row(batch.attentionMask), labels = row(batch.labels);
      const restored = ids.map((t, i) => (labels[i] === IGNORE ? t : labels[i]));
      assert.equal(restored[0], SP.cls);
      const seps = restored.flatMap((t, i) => (t === SP.sep ? [i] : []));
      assert.equal(seps.length, 2);
      const len = seps[1] + 1;
      for (let i = 0; i < T; i++) {
        assert.equal(mask[i], i < len ? 1 : 0);
        assert.equal(types[i], i > seps[0] && i < len ? 1 : 0);
        if (i >= len) assert.equal(ids[i], SP.pad);
      }
      assert.ok(labels.some((l) => l !== IGNORE), 'every row has something to predict');
    }
    assert.ok([...batch.nextSentenceLabels!].every((l) => l === 0 || l === 1));
  });
});
