import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BROWN_GENRES } from '../../common/datasetConfig';
import { detokenize, loadBrown, parseBrownFile, stripTag } from './brown';
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
