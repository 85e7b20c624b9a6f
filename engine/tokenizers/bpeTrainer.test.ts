import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { trainBpe } from './bpeTrainer';

// The worked example of Hugging Face's course (chapter 6, "Byte-Pair Encoding tokenization").
const WORDS = new Map([['hug', 10], ['pug', 5], ['pun', 12], ['bun', 4], ['hugs', 5]]);

describe('BPE trainer', () => {
  it("merges the most frequent pair first, ties to the smallest ids, as HF's BpeTrainer", () => {
    const r = trainBpe(WORDS, { vocabSize: 100, minFrequency: 1, specialTokens: ['[PAD]'] });
    assert.deepEqual(r.vocab.slice(0, 8), ['[PAD]', 'b', 'g', 'h', 'n', 'p', 's', 'u'], 'specials, then the alphabet in code point order');
    // (u g) 20, (u n) 16, (h ug) 15, (p un) 12, then a tie at 5: (p ug) has smaller ids than (hug s)
    assert.deepEqual(r.merges, [['u', 'g'], ['u', 'n'], ['h', 'ug'], ['p', 'un'], ['p', 'ug'], ['hug', 's'], ['b', 'un']]);
    assert.deepEqual(r.vocab.slice(8), ['ug', 'un', 'hug', 'pun', 'pug', 'hugs', 'bun']);
  });

  it('stops at the vocabulary size or at minFrequency', () => {
    assert.equal(trainBpe(WORDS, { vocabSize: 10, minFrequency: 1, specialTokens: [] }).vocab.length, 10);
    assert.deepEqual(trainBpe(WORDS, { vocabSize: 100, minFrequency: 5, specialTokens: [] }).merges.at(-1), ['hug', 's']);
  });

  it('keeps an initial alphabet the corpus lacks', () => {
    const r = trainBpe(WORDS, { vocabSize: 100, minFrequency: 1, specialTokens: [], initialAlphabet: ['z', 'a'] });
    assert.deepEqual(r.vocab.slice(0, 9), ['a', 'b', 'g', 'h', 'n', 'p', 's', 'u', 'z']);
  });

  it('with a ## prefix builds WordPiece pieces: continuations keep it, merged word starts lose it', () => {
    const r = trainBpe(WORDS, { vocabSize: 100, minFrequency: 1, specialTokens: [], continuingSubwordPrefix: '##' });
    assert.deepEqual(r.vocab.slice(7, 13), ['##g', '##n', '##s', '##u', '##ug', '##un'], 'the ## forms follow the alphabet, then the merges');
    assert.deepEqual(r.merges.slice(0, 3), [['##u', '##g'], ['##u', '##n'], ['h', '##ug']]);
    assert.ok(r.vocab.includes('hug') && r.vocab.includes('hugs') && !r.vocab.includes('##hug'));
  });

  it('counts overlapping pairs as HF does (aaaa merges to aa aa)', () => {
    const r = trainBpe(new Map([['aaaa', 3]]), { vocabSize: 100, minFrequency: 1, specialTokens: [] });
    assert.deepEqual(r.merges, [['a', 'a'], ['aa', 'aa']]);
  });
});
