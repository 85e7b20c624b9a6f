import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { splitSentences } from './sentences';

test('splits at sentence ends; white space goes with the next sentence', () => {
  assert.deepEqual(splitSentences('It rained. Then it stopped! Did it? "Yes." (Quite.) 42 left.'),
    ['It rained.', ' Then it stopped!', ' Did it?', ' "Yes."', ' (Quite.)', ' 42 left.']);
});

test('abbreviations, initials, decimals and lower-case continuations do not end a sentence', () => {
  assert.deepEqual(splitSentences('Mr. Smith met Dr. J. F. Kennedy at 3.5 p.m. in the U.S. Senate. He left, e.g. at noon. Fine.'),
    ['Mr. Smith met Dr. J. F. Kennedy at 3.5 p.m. in the U.S. Senate.', ' He left, e.g. at noon.', ' Fine.']);
  assert.deepEqual(splitSentences('Wait... what? yes.'), ['Wait... what? yes.']);
});

test('a blank line always ends a sentence; single line breaks do not', () => {
  assert.deepEqual(splitSentences('First Citizen:\nBefore we proceed any further, hear me speak\n\nAll:\nSpeak, speak.'),
    ['First Citizen:\nBefore we proceed any further, hear me speak', '\n\nAll:\nSpeak, speak.']);
});

test('overlong stretches are cut at line breaks, then at spaces', () => {
  const lines = Array.from({ length: 30 }, (_, i) => `item ${i} without any end mark`).join('\n');
  const s = splitSentences(lines, 200);
  assert.ok(s.length > 1 && s.every((x) => x.length <= 200));
  assert.ok(s.slice(1).every((x) => x.startsWith('\n')));
  const words = 'word '.repeat(300);
  assert.ok(splitSentences(words, 100).every((x) => x.length <= 100));
  const blob = 'x'.repeat(250);
  assert.deepEqual(splitSentences(blob, 100).map((x) => x.length), [100, 100, 50]);
});

test('sentences always concatenate back to the text', () => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', 'B', ' ', '.', '?', '\n', '"', 'Mr', '(', '3', 'é') , maxLength: 300 }), (text) => {
    const s = splitSentences(text, 40);
    assert.equal(s.join(''), text);
    assert.ok(s.every((x) => x.length > 0 && x.length <= 40));
  }), { numRuns: 300 });
});
