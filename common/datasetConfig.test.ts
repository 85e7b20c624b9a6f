import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BROWN_GENRES, DatasetConfig, findBrownGenre } from './datasetConfig';

test('{ source: { kind: "brown" } } is a complete config with the documented defaults', () => {
  const c = DatasetConfig.parse({ source: { kind: 'brown' } });
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
  const partial = DatasetConfig.parse({ source: { kind: 'brown' }, cleaning: { dedupeNear: { threshold: 0.9 } } });
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
  bad({ source: { kind: 'brown', genres: ['poetry'] } }, 'source.genres.0', /not a Brown genre.*news/);
  bad({ source: { kind: 'file', path: '' } }, 'source.path', /path/);
  bad({ source: { kind: 'brown' }, cleaning: { minChars: 100, maxChars: 10 } }, 'cleaning.maxChars', /raise maxChars or lower minChars/);
  bad({ source: { kind: 'brown' }, validationFraction: 1 }, 'validationFraction', /./);
  bad({ source: { kind: 'folder', path: 'd', extensions: ['*.txt'] } }, 'source.extensions', /extension/);
  assert.ok(!DatasetConfig.safeParse({ source: { kind: 'web' } }).success);
});

test('Brown genres: 15, found by letter, name or category', () => {
  assert.equal(BROWN_GENRES.length, 15);
  assert.equal(findBrownGenre('a')?.name, 'press: reportage');
  assert.equal(findBrownGenre('News')?.code, 'a');
  assert.equal(findBrownGenre('fiction: science')?.category, 'science_fiction');
  assert.equal(findBrownGenre('i'), undefined); // the corpus has no genre i
  assert.ok(DatasetConfig.safeParse({ source: { kind: 'brown', genres: ['news', 'r', 'fiction: romance'] } }).success);
});
