/** Streamed pieces never show what the finished text cuts: partial stop sequences and half characters are held back. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StopText } from './stopText';

/** Each id is one piece of text; `pieces[id]`. */
function streamOf(pieces: string[], stops: string[]) {
  const text = new StopText((ids) => ids.map((i) => pieces[i]).join(''), stops);
  const ids: number[] = [];
  const shown: string[] = [];
  return {
    push(id: number) {
      ids.push(id);
      const r = text.push(ids);
      shown.push(r.piece);
      return r.stopped;
    },
    end: () => shown.push(text.end()),
    shown,
    released: () => text.released,
  };
}

describe('StopText', () => {
  it('holds back a possible start of a stop sequence, and releases it when the stop does not come', () => {
    const s = streamOf(['ab', 'c\n', 'd', '\n', 'e'], ['\n\n']);
    assert.equal(s.push(0), false);
    assert.equal(s.push(1), false);
    assert.deepEqual(s.shown, ['ab', 'c'], 'the newline waits: it may begin the stop');
    assert.equal(s.push(2), false);
    assert.deepEqual(s.shown.at(-1), '\nd', 'not the stop after all: it goes out');
    s.push(3);
    assert.equal(s.push(4), false);
    s.end();
    assert.equal(s.shown.join(''), 'abc\nd\ne');
  });

  it('cuts at a stop sequence split over tokens, never showing any of it', () => {
    const s = streamOf(['hello ', 'wo', 'rld', ' END', 'ING', ' more'], ['END', 'rld!']);
    s.push(0);
    s.push(1);
    s.push(2);
    assert.equal(s.push(3), true);
    assert.equal(s.shown.join(''), 'hello world ');
    assert.equal(s.released(), 'hello world ');
  });

  it('the earliest of several stop sequences wins', () => {
    const s = streamOf(['x', 'BA'], ['A', 'B']);
    s.push(0);
    assert.equal(s.push(1), true);
    assert.equal(s.released(), 'x');
  });

  it('holds back half a UTF-8 character until the rest of it decodes', () => {
    const s = streamOf(['a', '\uFFFD', 'é'], []);
    s.push(0);
    s.push(1); // the text now ends in U+FFFD: a byte-level token that is half of a character
    assert.deepEqual(s.shown, ['a', '']);
  });
});
