import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { BROWN_GENRES, BUILT_IN_CORPORA } from '../../common/datasetConfig';
import { brownDir, detokenize, joinTexts, loadBrown, loadBrownText, parseBrownFile, stripTag } from './brown';
import { loadTextDataset } from './dataset';
import { cutAt } from './sentences';

test('tags are stripped at the last slash; tokens become readable text', () => {
  assert.equal(stripTag('1-1/2/cd'), '1-1/2');
  assert.equal(stripTag("Atlanta's/np$"), "Atlanta's");
  assert.equal(detokenize(['``', 'Only', 'a', 'few', "''", ',', 'the', 'jury', 'said', '(', 'twice', ')', '.']),
    '"Only a few", the jury said (twice).');
  assert.equal(detokenize(['He', 'met', 'Allen', 'Jr.', '.']), 'He met Allen Jr.');
  assert.equal(detokenize(['Why', 'four', '?', '?']), 'Why four?');
});

test('paragraphs and headings become blank-line breaks; sentence offsets cut the text exactly', () => {
  const raw = '\n\n\tThirty-three/cd-hl\nScotty/np did/dod not/* go/vb ./.\nHis/pp$ parents/nns talked/vbd ./.\n\n\n\tHe/pps left/vbd ./.\n';
  const { text, sentenceStarts } = parseBrownFile(raw);
  assert.equal(text, 'Thirty-three\n\nScotty did not go. His parents talked.\n\nHe left.');
  assert.deepEqual(cutAt(text, sentenceStarts), ['Thirty-three', '\n\nScotty did not go.', ' His parents talked.', '\n\nHe left.']);
});

test('the whole corpus: 500 texts in 15 genres, no tags left', async () => {
  const docs = await loadBrown();
  assert.equal(docs.length, 500);
  const genres = new Set(docs.map((d) => d.label));
  assert.equal(genres.size, 15);
  assert.deepEqual([...genres].sort(), BROWN_GENRES.map((g) => g.name).sort());
  assert.equal(docs.find((d) => d.id === 'ca01')!.label, 'press: reportage');
  assert.equal(docs.find((d) => d.id === 'cr09')!.label, 'humor');
  assert.ok(docs[0].text.startsWith("The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election"));
  let words = 0;
  for (const d of docs) {
    // the commonest tags, with their suffixes, after a word ("and/or" and "bd/ft" are the corpus' own words)
    assert.doesNotMatch(d.text, /\S\/(?:at|nns?|nps?|in|jj|vb[dngz]?|rb|cc|cs|pps|ppss|dti?|md|to|cd)(?:-tl|-hl|-nc|\$)*(?=\s|$)/, d.id);
    assert.doesNotMatch(d.text, /\.\/\.|,\/,|;;|\?\?|!!/, d.id);
    // quote tokens became ", except where the corpus writes inches (4' 10'')
    assert.ok(!d.text.includes('``') && !/(?:^|\s)''/.test(d.text), d.id);
    assert.equal(cutAt(d.text, d.sentenceStarts!).join(''), d.text);
    words += d.text.split(/\s+/).length;
  }
  assert.ok(words > 950_000 && words < 1_100_000, String(words));
  const sentences = docs.reduce((n, d) => n + d.sentenceStarts!.length, 0);
  assert.equal(sentences, 57_340); // one per line of the corpus
});

test('genres filter by letter, name or category', async () => {
  const docs = await loadBrown(['humor', 'm']);
  assert.equal(docs.length, 9 + 6);
  assert.deepEqual([...new Set(docs.map((d) => d.label))].sort(), ['fiction: science', 'humor']);
});

test('the figures the dataset form states are those of the installed package', async () => {
  const facts = BUILT_IN_CORPORA.brown;
  const pkg = JSON.parse(fs.readFileSync(path.join(brownDir(), 'package.json'), 'utf8')) as { version: string; license: string };
  assert.equal(pkg.version, facts.version);
  assert.match(facts.licence, new RegExp(pkg.license));
  const docs = await loadBrown();
  let bytes = 0;
  let tokens = 0;
  for (const d of docs) {
    const raw = fs.readFileSync(d.file, 'utf8');
    bytes += Buffer.byteLength(raw);
    tokens += raw.split(/\s+/).filter(Boolean).length;
  }
  const text = await loadBrownText();
  assert.deepEqual(
    { texts: docs.length, genres: new Set(docs.map((d) => d.label)).size, tokens, packageBytes: bytes, characters: text.text.length, words: text.text.split(/\s+/).filter(Boolean).length },
    { texts: facts.texts, genres: facts.genres, tokens: facts.tokens, packageBytes: facts.packageBytes, characters: facts.characters, words: facts.words },
  );
});

test('texts joined into one running text keep every sentence, a paragraph break between texts', () => {
  const a = { id: 'a', file: 'a', text: 'One. Two.', sentenceStarts: [0, 4] };
  const b = { id: 'b', file: 'b', text: 'Three.\n\nFour.', sentenceStarts: [0, 6] };
  const joined = joinTexts([a, b], 'ab', 'dir');
  assert.equal(joined.text, 'One. Two.\n\nThree.\n\nFour.');
  assert.deepEqual(cutAt(joined.text, joined.sentenceStarts!), ['One.', ' Two.', '\n\nThree.', '\n\nFour.']);
  assert.equal(joined.label, undefined);
});

test('the running text of the chosen genres, split by its tail', async () => {
  const docs = await loadBrown(['humor']);
  const one = await loadBrownText(['humor']);
  assert.equal(one.id, 'brown');
  assert.equal(one.text, docs.map((d) => d.text).join('\n\n'));
  assert.equal(cutAt(one.text, one.sentenceStarts!).length, docs.reduce((n, d) => n + d.sentenceStarts!.length, 0));

  const cleaning = { stripHtml: false, normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 };
  const ds = await loadTextDataset({ source: { kind: 'corpus', corpus: 'brown', as: 'text', genres: ['humor'] }, split: 'tail', validationFraction: 0.1, cleaning });
  assert.equal(ds.stats.documentsRead, 1);
  assert.deepEqual(ds.stats.labels, {});
  assert.equal(ds.stats.train.chars + ds.stats.validation.chars, one.text.length);
  assert.equal(ds.stats.validation.chars, one.text.length - Math.floor(one.text.length * 0.9));
  assert.equal(ds.stats.source, 'Brown corpus (humor), as one running text');
  // the held-out tail is the end of the last text
  assert.ok(one.text.endsWith(ds.validation[0].sentences.join('')));
});
