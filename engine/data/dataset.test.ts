import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DatasetConfigInput } from '../../common/datasetConfig';
import { EngineError } from '../../common/errors';
import { CACHE_EXT, readCacheEntry, writeCacheEntry } from './cache';
import { documentCount, documentSentences, documentTokens, loadTextDataset, loadTokenizedDataset, tokenStream, type TokenizedDataset } from './dataset';

const chars = { id: 'test-chars-v1', encode: (s: string) => Array.from(s, (c) => c.codePointAt(0)!) };
const decode = (t: Int32Array) => String.fromCodePoint(...t);

let tmp: string;
let corpus: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'wb-dataset-'));
  corpus = path.join(tmp, 'corpus');
  await fs.mkdir(corpus);
  for (let i = 0; i < 12; i++) {
    const sentences = Array.from({ length: 6 }, (_, j) => `Document ${i} says thing ${j} about topic ${(i * 7 + j) % 11}.`);
    await fs.writeFile(path.join(corpus, `doc${String(i).padStart(2, '0')}.txt`), `<p>${sentences.slice(0, 3).join(' ')}</p>\n\n${sentences.slice(3).join(' ')}\n`);
  }
});
after(async () => { await fs.rm(tmp, { recursive: true, force: true }); });

let dirs = 0;
const freshDir = () => path.join(tmp, `cache${dirs++}`);
const cfg = (patch: Partial<DatasetConfigInput> = {}): DatasetConfigInput => ({ source: { kind: 'folder', path: corpus }, validationFraction: 0.25, seed: 3, ...patch });
const cacheFiles = async (dir: string) => (await fs.readdir(dir).catch(() => [] as string[])).sort();

async function refused(p: Promise<unknown>, code: string, names: string, why: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof EngineError, String(err));
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.includes(names), `"${err.message}" should name ${names}`);
    assert.match(err.message, why);
    return true;
  });
}

function sameData(a: TokenizedDataset, b: TokenizedDataset): void {
  for (const side of ['train', 'validation'] as const) {
    assert.deepEqual(a[side].tokens, b[side].tokens);
    assert.deepEqual(a[side].sentenceOffsets, b[side].sentenceOffsets);
    assert.deepEqual(a[side].docSentenceOffsets, b[side].docSentenceOffsets);
    assert.deepEqual(a[side].docIds, b[side].docIds);
    assert.deepEqual(a[side].labels, b[side].labels);
  }
  assert.deepEqual({ ...a.stats, buildMs: 0 }, { ...b.stats, buildMs: 0 }); // build time is measured, not data
  assert.deepEqual(a.cleaning, b.cleaning);
}

test('text dataset: cleaned documents cut into sentences, split by whole documents', async () => {
  const ds = await loadTextDataset(cfg());
  assert.equal(ds.stats.documentsRead, 12);
  assert.equal(ds.train.length + ds.validation.length, 12);
  assert.equal(ds.validation.length, 3);
  const trainIds = new Set(ds.train.map((d) => d.id));
  assert.ok(ds.validation.every((d) => !trainIds.has(d.id)));
  const d = ds.train[0];
  assert.equal(d.sentences.length, 6);
  assert.equal(d.sentences[0], `Document ${d.id.slice(3, 5).replace(/^0/, '')} says thing 0 about topic ${(Number(d.id.slice(3, 5)) * 7) % 11}.`);
  assert.ok(d.sentences[3].startsWith('\n\n'), JSON.stringify(d.sentences)); // the paragraph break travels with the sentence after it
  assert.equal(ds.cleaning.steps[0].documentsChanged, 12); // the <p> tags
  assert.deepEqual((await loadTextDataset(cfg())).validation.map((x) => x.id), ds.validation.map((x) => x.id));
});

test('tokenized dataset: views for causal LM and for sentence pairs', async () => {
  const ds = await loadTokenizedDataset(cfg(), chars, { cacheDir: null });
  const text = await loadTextDataset(cfg());
  assert.equal(ds.fromCache, false);
  assert.equal(ds.cacheFile, undefined);
  assert.equal(documentCount(ds.train), 9);
  assert.deepEqual(ds.train.docIds, text.train.map((d) => d.id));
  for (let d = 0; d < documentCount(ds.train); d++) {
    assert.equal(decode(documentTokens(ds.train, d)), text.train[d].sentences.join(''));
    assert.deepEqual(documentSentences(ds.train, d).map(decode), text.train[d].sentences);
  }
  const stream = tokenStream(ds.train, 0);
  assert.equal(stream.length, ds.train.tokens.length + 9);
  assert.equal(stream.filter((t) => t === 0).length, 9);
  assert.equal(tokenStream(ds.train), ds.train.tokens);
  assert.equal(ds.stats.train.tokens, ds.train.tokens.length);
  assert.equal(ds.stats.tokenizer, 'test-chars-v1');
});

test('the second load comes from the cache, identical', async () => {
  const dir = freshDir();
  const first = await loadTokenizedDataset(cfg(), chars, { cacheDir: dir });
  assert.equal(first.fromCache, false);
  assert.ok(first.cacheFile?.endsWith(CACHE_EXT));
  assert.deepEqual(await cacheFiles(dir), [path.basename(first.cacheFile!)]);
  const second = await loadTokenizedDataset(cfg(), chars, { cacheDir: dir });
  assert.equal(second.fromCache, true);
  assert.equal(second.cacheFile, first.cacheFile);
  sameData(first, second);
});

test('a change of cleaning, split, tokenizer or source misses the cache', async () => {
  const dir = freshDir();
  const base = await loadTokenizedDataset(cfg(), chars, { cacheDir: dir });
  const miss = async (c: DatasetConfigInput, tok = chars) => {
    const r = await loadTokenizedDataset(c, tok, { cacheDir: dir });
    assert.equal(r.fromCache, false, JSON.stringify(c));
    assert.notEqual(r.cacheFile, base.cacheFile);
    assert.equal((await loadTokenizedDataset(c, tok, { cacheDir: dir })).fromCache, true);
    return r;
  };
  await miss(cfg({ cleaning: { minChars: 30 } }));
  await miss(cfg({ cleaning: { stripHtml: false } }));
  await miss(cfg({ seed: 4 }));
  await miss(cfg(), { id: 'test-chars-v2', encode: chars.encode });
  // the source: a file is edited (size and time change), then a file is added
  const f = path.join(corpus, 'doc05.txt');
  const old = await fs.readFile(f, 'utf8');
  await fs.writeFile(f, old + 'An added sentence here.\n');
  try {
    const edited = await miss(cfg());
    const doc = [...edited.train.docIds, ...edited.validation.docIds];
    assert.ok(doc.includes('doc05.txt'));
    await fs.writeFile(path.join(corpus, 'extra.txt'), 'A new document with enough words to pass.');
    const added = await miss(cfg());
    assert.equal(added.stats.documentsRead, 13);
  } finally {
    await fs.writeFile(f, old);
    await fs.rm(path.join(corpus, 'extra.txt'), { force: true });
  }
});

test('a corrupt cache file is detected, deleted and rebuilt, never trusted', async () => {
  const dir = freshDir();
  const good = await loadTokenizedDataset(cfg(), chars, { cacheDir: dir });
  const file = good.cacheFile!;
  const bytes = await fs.readFile(file);
  const damage: [string, Buffer, RegExp][] = [
    ['truncated', bytes.subarray(0, bytes.length - 10), /expected \d+ \(truncated/],
    ['bit flip', Buffer.concat([bytes.subarray(0, bytes.length - 5), Buffer.from([bytes[bytes.length - 5] ^ 1]), bytes.subarray(bytes.length - 4)]), /checksum/],
    ['garbage', Buffer.from('not a cache file at all'), /bad magic/],
    ['empty', Buffer.alloc(0), /bad magic/],
  ];
  for (const [what, data, reason] of damage) {
    await fs.writeFile(file, data);
    const r = await loadTokenizedDataset(cfg(), chars, { cacheDir: dir });
    assert.equal(r.fromCache, false, what);
    assert.match(r.cacheWarning ?? '', /corrupt/, what);
    assert.match(r.cacheWarning ?? '', reason, what);
    sameData(r, good);
    assert.equal((await readCacheEntry(dir, path.basename(file, CACHE_EXT))).status, 'hit', `${what}: rebuilt`);
  }
  assert.equal((await loadTokenizedDataset(cfg(), chars, { cacheDir: dir })).fromCache, true);
});

test('a crash mid-write leaves only a temporary file, which is never read', async () => {
  const scratch = freshDir();
  const good = await loadTokenizedDataset(cfg(), chars, { cacheDir: scratch });
  const key = path.basename(good.cacheFile!, CACHE_EXT);
  const bytes = await fs.readFile(good.cacheFile!);
  // a writer killed before its rename: half the bytes under the temporary name, no final file
  const dir = freshDir();
  await fs.mkdir(dir);
  const tmpFile = path.join(dir, `${key}.99999.deadbeef.tmp`);
  await fs.writeFile(tmpFile, bytes.subarray(0, bytes.length >> 1));
  assert.equal((await readCacheEntry(dir, key)).status, 'miss');
  const r = await loadTokenizedDataset(cfg(), chars, { cacheDir: dir });
  assert.equal(r.fromCache, false);
  assert.equal(r.cacheWarning, undefined);
  sameData(r, good);
  assert.equal((await readCacheEntry(dir, key)).status, 'hit');
  // a fresh temporary file may belong to a writer still at work: left alone; an hour-old one is swept
  assert.ok((await cacheFiles(dir)).includes(path.basename(tmpFile)));
  const old = new Date(Date.now() - 2 * 3600_000);
  await fs.utimes(tmpFile, old, old);
  await writeCacheEntry(dir, 'other', {}, { a: Int32Array.from([1]) });
  assert.deepEqual(await cacheFiles(dir), [`${key}${CACHE_EXT}`, `other${CACHE_EXT}`]);
});

test('a failed cache write leaves nothing behind and does not fail the load', async () => {
  const dir = freshDir();
  const good = await loadTokenizedDataset(cfg(), chars, { cacheDir: freshDir() });
  const key = path.basename(good.cacheFile!, CACHE_EXT);
  // the final name is taken by a non-empty folder, so the rename fails after the temporary file is written
  await fs.mkdir(path.join(dir, `${key}${CACHE_EXT}`, 'x'), { recursive: true });
  await assert.rejects(writeCacheEntry(dir, key, {}, { a: Int32Array.from([1, 2, 3]) }));
  assert.deepEqual(await cacheFiles(dir), [`${key}${CACHE_EXT}`]);
  const r = await loadTokenizedDataset(cfg(), chars, { cacheDir: dir });
  assert.equal(r.fromCache, false);
  assert.match(r.cacheWarning ?? '', /could not write the dataset cache/);
  sameData(r, good);
  assert.deepEqual(await cacheFiles(dir), [`${key}${CACHE_EXT}`]);
  // a cache folder that cannot be created at all (its parent is a file)
  const blocker = path.join(tmp, 'a-file');
  await fs.writeFile(blocker, 'x');
  const r2 = await loadTokenizedDataset(cfg(), chars, { cacheDir: path.join(blocker, 'cache') });
  assert.match(r2.cacheWarning ?? '', /could not write/);
});

test('cache entries keep uint16 and int32 token arrays exactly', async () => {
  const dir = freshDir();
  const arrays = { small: Int32Array.from([0, 1, 65535]), big: Int32Array.from([0, 65536, 2 ** 31 - 1]), odd: Int32Array.from([7]), empty: new Int32Array(0) };
  await writeCacheEntry(dir, 'k', { note: 'meta' }, arrays);
  const r = await readCacheEntry(dir, 'k');
  assert.ok(r.status === 'hit');
  assert.deepEqual(r.meta, { note: 'meta' });
  assert.deepEqual(r.arrays, arrays);
  // the key is checked too: a file renamed to another key is not that key's data
  await fs.rename(path.join(dir, `k${CACHE_EXT}`), path.join(dir, `j${CACHE_EXT}`));
  const renamed = await readCacheEntry(dir, 'j');
  assert.ok(renamed.status === 'corrupt' && /key/.test(renamed.reason));
});

test('refusals name the file and the reason, and leave no cache file', async () => {
  const dir = freshDir();
  const write = async (name: string, data: string | Uint8Array) => { const p = path.join(tmp, name); await fs.writeFile(p, data); return p; };
  const tiny = await write('tiny.txt', 'Too short.\n\nAlso short.\n');
  await refused(loadTokenizedDataset({ source: { kind: 'file', path: tiny } }, chars, { cacheDir: dir }), 'INVALID_DATASET', tiny, /no document is left after cleaning \(of 2 read: length removed 2\).*minChars/);
  const markup = await write('markup.html.txt', '<div><img src="a.png"></div>\n\n<script>alert("hello world, a long script")</script>');
  await refused(loadTokenizedDataset({ source: { kind: 'file', path: markup } }, chars, { cacheDir: dir }), 'INVALID_DATASET', markup, /no document is left/);
  const empty = await write('empty.txt', '');
  await refused(loadTokenizedDataset({ source: { kind: 'file', path: empty } }, chars, { cacheDir: dir }), 'INVALID_DATASET', empty, /holds no text/);
  const bin = await write('model.bin', Uint8Array.from([1, 0, 2, 3]));
  await refused(loadTokenizedDataset({ source: { kind: 'file', path: bin } }, chars, { cacheDir: dir }), 'INVALID_DATASET', bin, /binary/);
  const one = await write('one.txt', 'A single paragraph that is long enough to keep.\nIt goes on for a second line.');
  await refused(loadTokenizedDataset({ source: { kind: 'file', path: one } }, chars, { cacheDir: dir }), 'INVALID_DATASET', one, /only 1 document.*source.unit.*split to 'tail'$/);
  // too short for one sequence: training split, then validation split
  await refused(loadTokenizedDataset(cfg(), chars, { cacheDir: dir, sequenceLength: 100_000 }), 'INVALID_DATASET', corpus, /training split has \d+ tokens, fewer than one sequence of 100001/);
  const valTokens = (await loadTokenizedDataset(cfg(), chars, { cacheDir: null })).validation.tokens.length;
  await refused(loadTokenizedDataset(cfg(), chars, { cacheDir: dir, sequenceLength: valTokens + 5 }), 'INVALID_DATASET', corpus, /validation split has \d+ tokens.*raise validationFraction or shorten the context length$/);
  await refused(loadTokenizedDataset({ source: { kind: 'file', path: path.join(tmp, 'missing.txt') } }, chars, { cacheDir: dir }), 'INVALID_DATASET', 'missing.txt', /no such file/);
  assert.deepEqual(await cacheFiles(dir), []);
  await refused(loadTokenizedDataset({ source: { kind: 'file', path: one }, validationFraction: 2 } as DatasetConfigInput, chars, { cacheDir: dir }), 'INVALID_CONFIG', 'dataset.validationFraction', /./);
  // the same one-paragraph file trains without validation
  const ok = await loadTokenizedDataset({ source: { kind: 'file', path: one }, validationFraction: 0 }, chars, { cacheDir: null, sequenceLength: 16 });
  assert.equal(documentCount(ok.validation), 0);
  // a cache hit is checked against the sequence length too
  await loadTokenizedDataset(cfg(), chars, { cacheDir: dir });
  await refused(loadTokenizedDataset(cfg(), chars, { cacheDir: dir, sequenceLength: 100_000 }), 'INVALID_DATASET', corpus, /training split/);
});

test('relative paths resolve against baseDir; JSON Lines labels reach the splits', async () => {
  const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `Review number ${i}: the product was ${i % 2 ? 'great' : 'poor'} in way ${i * 13}.`, stars: i % 2 ? 5 : 1 }));
  await fs.writeFile(path.join(tmp, 'reviews.jsonl'), lines.join('\n'));
  const ds = await loadTokenizedDataset({ source: { kind: 'jsonl', path: 'reviews.jsonl', labelField: 'stars' }, validationFraction: 0.2 }, chars, { cacheDir: freshDir(), baseDir: tmp });
  assert.deepEqual(ds.stats.labels, { 5: { train: 8, validation: 2 }, 1: { train: 8, validation: 2 } });
  assert.deepEqual(new Set(ds.validation.labels), new Set(['1', '5']));
});

test('cancellation stops the load with JOB_CANCELLED', async () => {
  const ac = new AbortController();
  ac.abort();
  await refused(loadTokenizedDataset(cfg(), chars, { cacheDir: null, signal: ac.signal }), 'JOB_CANCELLED', 'cancelled', /./);
});

test('Brown: built once, then from the cache', async () => {
  const dir = freshDir();
  const c: DatasetConfigInput = { source: { kind: 'corpus', corpus: 'brown', genres: ['humor', 'science_fiction'] } };
  const first = await loadTokenizedDataset(c, chars, { cacheDir: dir, sequenceLength: 256 });
  assert.equal(first.stats.documentsRead, 15);
  assert.deepEqual(first.stats.labels, { 'fiction: science': { train: 5, validation: 1 }, humor: { train: 8, validation: 1 } });
  const second = await loadTokenizedDataset(c, chars, { cacheDir: dir, sequenceLength: 256 });
  assert.equal(second.fromCache, true);
  sameData(first, second);
});
