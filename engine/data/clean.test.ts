import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CleaningConfig } from '../../common/datasetConfig';
import { cleanDocuments, normalizeWhitespace, stripHtml } from './clean';
import type { RawDocument } from './types';

const doc = (id: string, text: string, extra: Partial<RawDocument> = {}): RawDocument => ({ id, file: 'f', text, ...extra });
const cfg = (c: unknown = {}) => CleaningConfig.parse(c);

/** A few hundred words of pseudo-English that differ between seeds, so unrelated documents share no shingles. */
function prose(seed: number, words = 200): string {
  const vocab = ['river', 'stone', 'light', 'market', 'quiet', 'engine', 'letter', 'garden', 'winter', 'signal', 'paper', 'orange',
    'window', 'forest', 'silver', 'number', 'harbor', 'candle', 'mirror', 'thunder', 'basket', 'pepper', 'ladder', 'meadow'];
  let s = seed * 2654435761 >>> 0;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.push(vocab[(s >>> 8) % vocab.length]);
  }
  return out.join(' ') + '.';
}

test('stripHtml removes tags, comments, scripts and styles and decodes entities', () => {
  const html = '<!DOCTYPE html><html><head><style>p { color: red }</style><script>var a = "<b>";</script></head>'
    + '<body><!-- note --><p>Fish &amp; chips &lt;3 &mdash; caf&eacute; &#233;&#x41;&nbsp;ok&bogus;</p><br/><a href="x">link</a> a < b</body></html>';
  const out = normalizeWhitespace(stripHtml(html));
  assert.equal(out, 'Fish & chips <3 — café éA ok\n\nlink a < b');
  assert.equal(stripHtml('no markup here'), 'no markup here');
});

test('normalizeWhitespace: one space, trimmed lines, at most one blank line, no zero-width or control characters', () => {
  assert.equal(normalizeWhitespace('  a\t\tb\u00a0c \r\n\r\n\r\n\r\n  d\u200b e\u0007 \n'), 'a b c\n\nd e');
  assert.equal(normalizeWhitespace('line one\nline two'), 'line one\nline two');
});

test('every step reports what it removed', () => {
  const base = prose(1);
  const docs = [
    doc('html', `<p>${prose(2)}</p>`),
    doc('spaces', `${prose(3)}   \n\n\n\n  end`),
    doc('short', 'tiny'),
    doc('blank', '   \n  '),
    doc('orig', base),
    doc('copy', base),
    doc('copy-after-cleaning', `<b>${base}</b>`),
    doc('near', base.replace('river', 'brook').replace('stone', 'rock').slice(0, -30)),
    doc('other', prose(4)),
  ];
  // sanity: the near copy really differs
  assert.notEqual(docs[7].text, base);
  const { docs: kept, report } = cleanDocuments(docs, cfg());
  assert.deepEqual(kept.map((d) => d.id), ['html', 'spaces', 'orig', 'other']);
  assert.equal(report.documentsIn, 9);
  assert.equal(report.documentsOut, 4);
  const step = (name: string) => report.steps.find((s) => s.step === name)!;
  assert.deepEqual(report.steps.map((s) => s.step), ['stripHtml', 'normalizeWhitespace', 'length', 'dedupeExact', 'dedupeNear']);
  assert.deepEqual([step('stripHtml').documentsChanged, step('stripHtml').examples], [2, ['html', 'copy-after-cleaning']]);
  assert.equal(step('stripHtml').charsRemoved, 5 + 7); // block tags leave a line break
  assert.ok(step('normalizeWhitespace').examples.includes('spaces'));
  assert.deepEqual([step('length').documentsRemoved, step('length').examples], [2, ['short', 'blank']]);
  assert.match(step('length').detail, /dropped 2 documents shorter than 20 characters/);
  assert.deepEqual(step('dedupeExact').duplicateOf, [['copy', 'orig'], ['copy-after-cleaning', 'orig']]);
  assert.equal(step('dedupeExact').documentsRemoved, 2);
  assert.deepEqual(step('dedupeNear').duplicateOf, [['near', 'orig']]);
  assert.equal(step('dedupeNear').documentsRemoved, 1);
  assert.equal(step('dedupeNear').charsRemoved, docs[7].text.length);
});

test('steps can be switched off, and maxChars drops long documents', () => {
  const base = prose(7);
  const docs = [doc('a', base), doc('b', base), doc('c', base.replace('quiet', 'loud')), doc('long', prose(8, 2000))];
  const { docs: kept, report } = cleanDocuments(docs, cfg({ dedupeExact: false, dedupeNear: { enabled: false }, maxChars: 5000 }));
  assert.deepEqual(kept.map((d) => d.id), ['a', 'b', 'c']);
  assert.equal(report.steps.find((s) => s.step === 'dedupeExact')!.enabled, false);
  assert.match(report.steps.find((s) => s.step === 'length')!.detail, /1 longer than 5000/);
  const exactOnly = cleanDocuments(docs, cfg({ dedupeNear: { enabled: false } }));
  assert.deepEqual(exactOnly.docs.map((d) => d.id), ['a', 'c', 'long']);
});

test("a step that edits a text drops the source's sentence offsets; an untouched text keeps them", () => {
  const kept = cleanDocuments([doc('x', 'One sentence here. Two  sentences.', { sentenceStarts: [0, 18] }), doc('y', 'Unchanged text, long enough.', { sentenceStarts: [0] })], cfg());
  assert.equal(kept.docs[0].sentenceStarts, undefined);
  assert.deepEqual(kept.docs[1].sentenceStarts, [0]);
});
