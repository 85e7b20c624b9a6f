import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DatasetSource } from '../../common/datasetConfig';
import { EngineError } from '../../common/errors';
import { decodeText, readSource, sourceIdentity, splitUnits } from './sources';

let tmp: string;
before(async () => { tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'wb-sources-')); });
after(async () => { await fs.rm(tmp, { recursive: true, force: true }); });

const src = (s: unknown) => DatasetSource.parse(s);
const write = async (rel: string, data: string | Uint8Array) => {
  const p = path.join(tmp, rel);
  await fs.mkdir(path.dirname(p), { recursive: true });
  await fs.writeFile(p, data);
  return p;
};

/** Asserts an INVALID_DATASET refusal whose message names `file` and matches `why`. */
async function refused(p: Promise<unknown>, file: string, why: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof EngineError, String(err));
    assert.equal(err.code, 'INVALID_DATASET');
    assert.ok(err.message.includes(file), `"${err.message}" should name ${file}`);
    assert.match(err.message, why);
    return true;
  });
}

test('a plain-text file: paragraphs by default, ids give the line each starts on', async () => {
  const f = await write('plain.txt', 'First paragraph, line one.\nLine two.\n\n\nSecond paragraph.\r\n\r\nThird.\n');
  const docs = await readSource(src({ kind: 'file', path: f }));
  assert.deepEqual(docs.map((d) => [d.id, d.text]), [
    ['plain.txt:1', 'First paragraph, line one.\nLine two.'],
    ['plain.txt:5', 'Second paragraph.'],
    ['plain.txt:7', 'Third.'],
  ]);
  assert.equal(docs[0].file, f);
  const whole = await readSource(src({ kind: 'file', path: f, unit: 'file' }));
  assert.equal(whole.length, 1);
  const lines = await readSource(src({ kind: 'file', path: 'plain.txt', unit: 'line' }), tmp);
  assert.deepEqual(lines.map((d) => d.id), ['plain.txt:1', 'plain.txt:2', 'plain.txt:5', 'plain.txt:7']);
});

test('a folder: recursive, sorted, filtered by extension, hidden entries skipped', async () => {
  await write('corpus/b.txt', 'Text of b.');
  await write('corpus/a.md', 'Text of a.');
  await write('corpus/sub/c.TXT', 'Text of c.');
  await write('corpus/skip.pdf', '%PDF');
  await write('corpus/.git/HEAD', 'ref: x');
  await write('corpus/.hidden.txt', 'hidden');
  const docs = await readSource(src({ kind: 'folder', path: path.join(tmp, 'corpus') }));
  assert.deepEqual(docs.map((d) => d.id), ['a.md', 'b.txt', 'sub/c.TXT']);
  const onlyTxt = await readSource(src({ kind: 'folder', path: 'corpus', extensions: ['txt'] }), tmp);
  assert.deepEqual(onlyTxt.map((d) => d.id), ['b.txt', 'sub/c.TXT']);
});

test('JSON Lines: text and label fields, blank lines skipped', async () => {
  const f = await write('data.jsonl', [
    JSON.stringify({ body: 'A first text.', topic: 'x' }), '',
    JSON.stringify({ body: 'A second text.', topic: 2 }),
  ].join('\n'));
  const docs = await readSource(src({ kind: 'jsonl', path: f, textField: 'body', labelField: 'topic' }));
  assert.deepEqual(docs.map((d) => [d.id, d.text, d.label]), [['data.jsonl:1', 'A first text.', 'x'], ['data.jsonl:3', 'A second text.', '2']]);
});

test('refusals name the file and say why', async () => {
  const missing = path.join(tmp, 'nope.txt');
  await refused(readSource(src({ kind: 'file', path: missing })), missing, /no such file/);
  await refused(readSource(src({ kind: 'file', path: tmp })), tmp, /is a folder.*'folder'/);
  await refused(readSource(src({ kind: 'folder', path: path.join(tmp, 'nodir') })), 'nodir', /no such folder/);
  const afile = await write('notdir.txt', 'x');
  await refused(readSource(src({ kind: 'folder', path: afile })), afile, /not a folder/);
  const empty = await fs.mkdtemp(path.join(tmp, 'empty-'));
  await write(path.relative(tmp, path.join(empty, 'x.pdf')), 'x');
  await refused(readSource(src({ kind: 'folder', path: empty })), empty, /no files ending in .txt.*x\.pdf/);
  // links that loop look like text files in a listing: the refusal says why they were not read
  const loops = await fs.mkdtemp(path.join(tmp, 'loops-'));
  await fs.symlink('b.txt', path.join(loops, 'a.txt'));
  await fs.symlink('a.txt', path.join(loops, 'b.txt'));
  await fs.symlink('gone.txt', path.join(loops, 'dangling.txt'));
  await refused(readSource(src({ kind: 'folder', path: loops })), loops, /no files ending in .txt.*3 symbolic links in it loop or lead nowhere \(e\.g\. a\.txt, b\.txt, dangling\.txt\)/);

  const bin = await write('image.txt', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
  await refused(readSource(src({ kind: 'file', path: bin })), bin, /binary.*NUL byte at offset 8/);
  const garbage = await write('garbage.txt', Uint8Array.from({ length: 4000 }, (_, i) => 0x80 + (i * 7) % 64 + 1));
  await refused(readSource(src({ kind: 'file', path: garbage })), garbage, /not UTF-8/);
  const utf16 = await write('utf16.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hello', 'utf16le')]));
  await refused(readSource(src({ kind: 'file', path: utf16 })), utf16, /UTF-16.*UTF-8/);
  const nested = await write('mixed/ok.txt', 'fine text');
  await write('mixed/zz.txt', Uint8Array.from([1, 2, 0, 4]));
  await refused(readSource(src({ kind: 'folder', path: path.dirname(nested) })), 'zz.txt', /binary/);

  const jl = await write('bad.jsonl', '{"text":"ok"}\n{"text": broken}\n');
  await refused(readSource(src({ kind: 'jsonl', path: jl })), `${jl}:2`, /not valid JSON/);
  const jl2 = await write('nofield.jsonl', '{"content":"ok","id":1}\n');
  await refused(readSource(src({ kind: 'jsonl', path: jl2 })), `${jl2}:1`, /no field "text" \(its fields: content, id\).*textField/);
  const jl3 = await write('array.jsonl', '[1,2]\n');
  await refused(readSource(src({ kind: 'jsonl', path: jl3 })), `${jl3}:1`, /an array, not a JSON object/);
  const jl4 = await write('nolabel.jsonl', '{"text":"a"}\n');
  await refused(readSource(src({ kind: 'jsonl', path: jl4, labelField: 'y' })), `${jl4}:1`, /labelField/);
});

test('text with a few bad bytes or a BOM is still text', () => {
  const ok = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' au lait, '.repeat(50))]);
  const t = decodeText(ok, 'x.txt');
  assert.ok(t.startsWith('caf\ufffd au lait'));
  assert.equal(decodeText(Buffer.from(''), 'e.txt'), '');
});

test('splitUnits keeps every non-blank line exactly once', () => {
  const text = 'a\n\n b\nc\n\t\nd';
  const paras = splitUnits(text, 'n', 'n', 'paragraph');
  assert.deepEqual(paras.map((d) => d.text), ['a', ' b\nc', 'd']);
});

test('source identity changes with size and mtime, not with reading', async () => {
  const f = await write('ident.txt', 'one');
  const s = src({ kind: 'file', path: f });
  const a = JSON.stringify(await sourceIdentity(s));
  assert.equal(JSON.stringify(await sourceIdentity(s)), a);
  await fs.writeFile(f, 'one two');
  assert.notEqual(JSON.stringify(await sourceIdentity(s)), a);
  const b = JSON.stringify(await sourceIdentity(s));
  await fs.utimes(f, new Date(), new Date(Date.now() + 5000));
  assert.notEqual(JSON.stringify(await sourceIdentity(s)), b);
  await refused(sourceIdentity(src({ kind: 'file', path: path.join(tmp, 'gone.txt') })), 'gone.txt', /no such file/);
});

test('what is not a regular file, or is too large, is refused before it is read: devices, FIFOs, sockets, a 2 GB sparse file', async () => {
  const file = (p: string) => readSource(src({ kind: 'file', path: p }), tmp);
  await refused(file('/dev/zero'), '/dev/zero', /is a character device, not a regular file, and is not read/);
  const fifo = path.join(tmp, 'pipe.txt');
  execFileSync('mkfifo', [fifo]); // no writer: opening it for a blocking read would hang forever
  await refused(file(fifo), fifo, /is a named pipe \(FIFO\), not a regular file/);
  const sock = path.join(tmp, 'sock.txt');
  const server = net.createServer().listen(sock);
  await new Promise((r) => server.once('listening', r));
  await refused(file(sock), sock, /is a socket, not a regular file/);
  server.close();
  const sparse = path.join(tmp, 'sparse.txt');
  const fh = await fs.open(sparse, 'w');
  await fh.truncate(2 * 1024 ** 3); // 2 GB that take no disk
  await fh.close();
  await refused(file(sparse), sparse, /is 2048 MiB; a text file is read whole, up to 512 MiB: split it/);
  // a linked device is refused as the device, inside a folder it is skipped
  await fs.symlink('/dev/zero', path.join(tmp, 'zero.txt'));
  await refused(file(path.join(tmp, 'zero.txt')), 'zero.txt', /character device/);
});

test('a cancel stops a large read between chunks', async () => {
  const big = path.join(tmp, 'big.txt');
  const fh = await fs.open(big, 'w');
  await fh.truncate(400 * 1024 ** 2); // read in 8 MiB chunks; it would end as binary (zeros) if read to the end
  await fh.close();
  const controller = new AbortController();
  const reading = readSource(src({ kind: 'file', path: big }), tmp, controller.signal);
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(reading, (err: unknown) => err instanceof EngineError && err.code === 'JOB_CANCELLED' && err.message.includes(big));
});
