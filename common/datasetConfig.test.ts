import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BROWN_GENRES, DatasetConfig, DatasetSource, findBrownGenre } from './datasetConfig';

const BROWN = { kind: 'corpus', corpus: 'brown' } as const;

test('{ source: { kind: "corpus", corpus: "brown" } } is a complete config with the documented defaults', () => {
  const c = DatasetConfig.parse({ source: BROWN });
  assert.deepEqual(c.source, { kind: 'corpus', corpus: 'brown', as: 'documents' });
  assert.deepEqual(c.cleaning, {
    stripHtml: true, normalizeWhitespace: true, dedupeExact: true,
    dedupeNear: { enabled: true, threshold: 0.8, shingle: 5, numPerm: 64 }, minChars: 20,
  });
  assert.equal(c.validationFraction, 0.1);
  assert.equal(c.seed, 0);
});

test('file, folder and jsonl sources fill their defaults', () => {
  assert.equal(DatasetConfig.parse({ source: { kind: 'file', path: 'a.txt' } }).source.kind, 'file');
  const f = DatasetConfig.parse({ source: { kind: 'folder', path: 'd' } }).source;
  assert.ok(f.kind === 'folder' && f.unit === 'file' && f.extensions.includes('.txt'));
  const j = DatasetConfig.parse({ source: { kind: 'jsonl', path: 'x.jsonl' } }).source;
  assert.ok(j.kind === 'jsonl' && j.textField === 'text' && j.labelField === undefined);
  const partial = DatasetConfig.parse({ source: BROWN, cleaning: { dedupeNear: { threshold: 0.9 } } });
  assert.deepEqual(partial.cleaning.dedupeNear, { enabled: true, threshold: 0.9, shingle: 5, numPerm: 64 });
});

test('refusals name the field and the fix', () => {
  const bad = (input: unknown, field: string, words: RegExp) => {
    const r = DatasetConfig.safeParse(input);
    assert.ok(!r.success, JSON.stringify(input));
    const issue = r.error.issues.find((i) => i.path.join('.').includes(field));
    assert.ok(issue, `${field} in ${JSON.stringify(r.error.issues)}`);
    assert.match(issue.message, words);
  };
  bad({ source: { ...BROWN, genres: ['poetry'] } }, 'source.genres.0', /not a Brown genre.*news/);
  bad({ source: { kind: 'file', path: '' } }, 'source.path', /path/);
  bad({ source: BROWN, cleaning: { minChars: 100, maxChars: 10 } }, 'cleaning.maxChars', /raise maxChars or lower minChars/);
  bad({ source: BROWN, validationFraction: 1 }, 'validationFraction', /./);
  bad({ source: { kind: 'folder', path: 'd', extensions: ['*.txt'] } }, 'source.extensions', /extension/);
  assert.ok(!DatasetConfig.safeParse({ source: { kind: 'web' } }).success);
  bad({ source: { kind: 'corpus', corpus: 'wikipedia' } }, 'source.corpus', /brown/);
  bad({ source: { ...BROWN, as: 'sentences' } }, 'source.as', /documents.*text/);
  // one running text cannot be split by documents: the message says to split its tail
  bad({ source: { ...BROWN, as: 'text' } }, 'split', /running text.*split 'tail'/);
  bad({ source: { ...BROWN, as: 'text' }, split: 'documents' }, 'split', /split 'tail'/);
});

test('Brown genres: 15, found by letter, name or category', () => {
  assert.equal(BROWN_GENRES.length, 15);
  assert.equal(findBrownGenre('a')?.name, 'press: reportage');
  assert.equal(findBrownGenre('News')?.code, 'a');
  assert.equal(findBrownGenre('fiction: science')?.category, 'science_fiction');
  assert.equal(findBrownGenre('i'), undefined); // the corpus has no genre i
  assert.ok(DatasetConfig.safeParse({ source: { ...BROWN, genres: ['news', 'r', 'fiction: romance'] } }).success);
});

test('the Brown corpus as one running text: split by its tail, or not at all', () => {
  const tail = DatasetConfig.parse({ source: { ...BROWN, as: 'text' }, split: 'tail' });
  assert.deepEqual(tail.source, { kind: 'corpus', corpus: 'brown', as: 'text' });
  assert.ok(DatasetConfig.safeParse({ source: { ...BROWN, as: 'text' }, validationFraction: 0 }).success, 'nothing held out: nothing to split');
  assert.ok(DatasetConfig.safeParse({ source: { ...BROWN, as: 'text', genres: ['humor'] }, split: 'tail' }).success);
});

test("format 1's { kind: 'brown' } is still read, as the corpus source it meant", () => {
  assert.deepEqual(DatasetSource.parse({ kind: 'brown' }), { kind: 'corpus', corpus: 'brown', as: 'documents' });
  assert.deepEqual(DatasetSource.parse({ kind: 'brown', genres: ['humor'] }), { kind: 'corpus', corpus: 'brown', as: 'documents', genres: ['humor'] });
  // and checked as one: a bad genre or a stray field is refused the same way
  const r = DatasetSource.safeParse({ kind: 'brown', genres: ['poetry'] });
  assert.ok(!r.success && /not a Brown genre/.test(r.error.issues[0].message));
  assert.ok(!DatasetSource.safeParse({ kind: 'brown', as: 'text' }).success);
});
