import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitDocuments, splitTails } from './split';

const docs = Array.from({ length: 200 }, (_, i) => ({ id: `doc${i}`, ...(i % 10 === 0 ? {} : { label: `g${i % 4}` }) }));
const ids = (l: { id: string }[]) => l.map((d) => d.id);

test('the same seed gives the same split; another seed another one', () => {
  const a = splitDocuments(docs, 0.1, 7);
  const b = splitDocuments(docs.slice().reverse(), 0.1, 7);
  assert.deepEqual(ids(a.validation).sort(), ids(b.validation).sort());
  assert.notDeepEqual(ids(splitDocuments(docs, 0.1, 8).validation), ids(a.validation));
});

test('train and validation are disjoint, cover every document and keep input order', () => {
  const { train, validation } = splitDocuments(docs, 0.25, 3);
  const all = new Set([...ids(train), ...ids(validation)]);
  assert.equal(all.size, docs.length);
  assert.equal(train.length + validation.length, docs.length);
  assert.ok(validation.length >= 45 && validation.length <= 55, String(validation.length));
  const pos = new Map(docs.map((d, i) => [d.id, i]));
  for (const l of [train, validation]) assert.ok(l.every((d, i) => i === 0 || pos.get(l[i - 1].id)! < pos.get(d.id)!));
});

test('stratified by label: each label gets its share', () => {
  const { validation } = splitDocuments(docs, 0.1, 0);
  const count = (l: string | undefined) => validation.filter((d) => d.label === l).length;
  for (const g of ['g1', 'g2', 'g3']) assert.equal(count(g), Math.round(docs.filter((d) => d.label === g).length * 0.1));
  assert.equal(count(undefined), 2);
});

test('adding a document does not move the others', () => {
  const before = splitDocuments(docs, 0.2, 1);
  const after = splitDocuments([...docs, { id: 'new', label: 'g1' }], 0.2, 1);
  const moved = ids(before.validation).filter((id) => !ids(after.validation).includes(id));
  assert.ok(moved.length <= 1, `moved: ${moved}`);
});

test('small datasets: both sides get a document; fraction 0 keeps all for training', () => {
  const two = [{ id: 'a' }, { id: 'b' }];
  const s = splitDocuments(two, 0.1, 0);
  assert.equal(s.train.length, 1);
  assert.equal(s.validation.length, 1);
  const singles = [{ id: 'a', label: 'x' }, { id: 'b', label: 'y' }];
  const t = splitDocuments(singles, 0.9, 0);
  assert.ok(t.train.length === 1 && t.validation.length === 1);
  assert.deepEqual(splitDocuments(two, 0, 0), { train: two, validation: [] });
});

test('tail split (nanoGPT contiguous): cuts each document at (1 - fraction) of its characters, exactly', () => {
    const doc = { id: 'play', sentences: ['To be, ', 'or not to be: ', 'that is the question.'] };
    const text = doc.sentences.join('');
    const { train, validation } = splitTails([doc], 0.25);
    const cut = Math.floor(text.length * 0.75);
    assert.equal(train[0].sentences.join(''), text.slice(0, cut));
    assert.equal(validation[0].sentences.join(''), text.slice(cut));
    assert.equal(validation[0].id, 'play#val');
    assert.deepEqual(splitTails([doc], 0).validation, []);
});
