/**
 * prepareData on a file it streams (streamAboveBytes lowered so that small files stream): the tokens equal the
 * in-memory pipeline's where the two pipelines agree (one document, split 'tail' at a line start), chunk and UTF-8
 * boundaries lose nothing, token files are reused, a cancel stops a read within a second, and what a stream cannot
 * do is refused in words.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatasetConfig, type DatasetConfigInput } from '../../common/datasetConfig';
import type { EngineError } from '../../common/errors';
import type { Objective } from '../../common/pretrainConfig';
import { TokenizerConfig, type TokenizerConfigInput } from '../../common/tokenizerConfig';
import { tokenStream } from '../data/dataset';
import { documentSide } from '../data/split';
import { Rng } from '../util/random';
import { prepareData, type DataOptions } from './pretrainData';

let tmp: string;
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-streamed-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const NO_CLEANING = { stripHtml: false, normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 };

function prepare(file: string, dataset: DatasetConfigInput, tokenizer: TokenizerConfigInput, extra: Partial<DataOptions> & { objective?: Objective } = {}) {
  return prepareData(DatasetConfig.parse(dataset), TokenizerConfig.parse(tokenizer), {
    objective: 'causal-lm', batchSize: 3, seqLen: 16, maskProbability: 0.15, evalBatches: 2, seed: 1, baseDir: tmp, cacheDir: path.join(tmp, 'cache'),
    tokenizerFile: path.join(tmp, `${path.basename(file)}.${Math.random()}.tokenizer.json`), reuseTokenizer: false, ...extra,
  });
}

/** `lines` lines of exactly 64 bytes (63 ASCII characters and \n), each different. */
function asciiFile(name: string, lines: number): string {
  const file = path.join(tmp, name);
  const fd = fs.openSync(file, 'w');
  for (let i = 0; i < lines; i += 1000) {
    let block = '';
    for (let k = i; k < Math.min(lines, i + 1000); k++) block += `line ${k} of the corpus, the quick brown fox. `.padEnd(63, 'abcdefghij'[k % 10]) + '\n';
    fs.writeSync(fd, block);
  }
  fs.closeSync(fd);
  return file;
}

describe('prepareData on a streamed file', () => {
  it('gives the in-memory tokens for one document split at a line start, across 1 MiB pieces, and the same batches', async () => {
    // 40,000 lines: 2.4 MiB, so the one document is cleaned and encoded in three pieces; the tail cut (0.1) falls at line 36,000
    const file = asciiFile('ascii.txt', 40_000);
    const dataset = { source: { kind: 'file', path: 'ascii.txt', unit: 'file' }, split: 'tail', validationFraction: 0.1, cleaning: NO_CLEANING } as const;
    const infos: string[] = [];
    const streamed = await prepare(file, dataset, { kind: 'char' }, { streamAboveBytes: 0, onInfo: (m) => infos.push(m) });
    const whole = await prepare(file, dataset, { kind: 'char' }, { cacheDir: null });
    try {
      assert.ok(streamed.streamed && !streamed.dataset && whole.dataset && !whole.streamed);
      assert.match(infos.join('\n'), /prepared as a stream .*learning its characters from the whole file/);
      assert.equal(streamed.tokenizer.id, whole.tokenizer.id);
      const s = streamed.streamed;
      assert.deepEqual(s.train.subarray(0, s.train.length), tokenStream(whole.dataset.train));
      assert.deepEqual(s.validation.subarray(0, s.validation.length), tokenStream(whole.dataset.validation));
      assert.equal(s.validation.length, 4_000 * 64);
      assert.deepEqual(streamed.trainBatch(new Rng(5)), whole.trainBatch(new Rng(5)));
      assert.deepEqual(streamed.validation, whole.validation);
    } finally {
      streamed.close();
      whole.close();
    }
  });

  it('loses nothing at read chunk edges or inside multi-byte characters; each line is a document on the side its hash picks', async () => {
    const file = path.join(tmp, 'utf8.txt');
    const lines: string[] = [];
    // 3-byte "—" and 4-byte "😀" at every offset against the read chunks' edges; ~9.6 MiB in all, CRLF line ends
    for (let i = 0; i < 150_000; i++) lines.push(`${i} café — naïve 😀 ${'x'.repeat(i % 13)}`);
    fs.writeFileSync(file, lines.join('\r\n') + '\r\n');
    const dataset = { source: { kind: 'file', path: 'utf8.txt', unit: 'line' }, split: 'documents', validationFraction: 0.2, seed: 3, cleaning: NO_CLEANING } as const;
    const data = await prepare(file, dataset, { kind: 'char', specials: true }, { streamAboveBytes: 0 });
    try {
      const s = data.streamed!;
      const sep = data.tokenizer.specialIds.sep!;
      const expect = { train: [] as string[], validation: [] as string[] };
      lines.forEach((l, i) => expect[documentSide(`utf8.txt:${i + 1}`, 0.2, 3)].push(l));
      assert.ok(Math.abs(expect.validation.length / lines.length - 0.2) < 0.01, `${expect.validation.length} of ${lines.length} lines in validation`);
      for (const side of ['train', 'validation'] as const) {
        const docs: string[] = [];
        let doc: number[] = [];
        for (const t of s[side].subarray(0, s[side].length)) {
          if (t !== sep) { doc.push(t); continue; }
          docs.push(data.tokenizer.decode(doc));
          doc = [];
        }
        assert.equal(doc.length, 0, 'every document ends with [SEP]');
        assert.equal(docs.length, expect[side].length, side);
        assert.ok(docs.every((d, i) => d === expect[side][i]), `${side}: first difference at document ${docs.findIndex((d, i) => d !== expect[side][i])}`);
      }
    } finally {
      data.close();
    }
  });

  it('uses token files an earlier run wrote for the same source and tokenizer, and rewrites damaged ones', async () => {
    const file = asciiFile('again.txt', 5_000);
    const dataset = { source: { kind: 'file', path: 'again.txt', unit: 'paragraph' }, split: 'tail', validationFraction: 0.1, cleaning: NO_CLEANING } as const;
    const tokenizerFile = path.join(tmp, 'again.tokenizer.json');
    const first = await prepare(file, dataset, { kind: 'char' }, { streamAboveBytes: 0, tokenizerFile });
    first.close();
    const second = await prepare(file, dataset, { kind: 'char' }, { streamAboveBytes: 0, tokenizerFile, reuseTokenizer: true });
    second.close();
    assert.equal(first.streamed!.fromCache, false);
    assert.equal(second.streamed!.fromCache, true);
    assert.equal(second.streamed!.dir, first.streamed!.dir);
    fs.truncateSync(path.join(first.streamed!.dir, 'train.tokens'), 100);
    const third = await prepare(file, dataset, { kind: 'char' }, { streamAboveBytes: 0, tokenizerFile, reuseTokenizer: true });
    try {
      assert.equal(third.streamed!.fromCache, false);
      assert.equal(third.streamed!.train.length, first.streamed!.train.length);
      assert.deepEqual(fs.readdirSync(path.join(tmp, 'cache')).filter((n) => n.endsWith('.tmp')), [], 'no temporary folder is left');
    } finally {
      third.close();
    }
  });

  it('a cancel during a large read stops it within a second and leaves no temporary folder', async () => {
    const file = asciiFile('big.txt', 400_000); // 24 MiB: three chunks
    const dataset = { source: { kind: 'file', path: 'big.txt', unit: 'line' }, split: 'documents', validationFraction: 0.1, cleaning: NO_CLEANING } as const;
    const controller = new AbortController();
    const cacheDir = path.join(tmp, 'cancel-cache');
    let abortedAt = 0;
    const progress: number[] = [];
    const run = prepare(file, dataset, { kind: 'char' }, {
      streamAboveBytes: 0, cacheDir, signal: controller.signal,
      onProgress: (p) => {
        // cancel once the encoding pass has read 16 MiB: mid-read, not between phases
        if (p.phase === 'tokenize' && p.done >= 16 * 2 ** 20 && !abortedAt) { abortedAt = performance.now(); controller.abort(); }
        progress.push(p.done);
      },
    });
    await assert.rejects(run, (e: EngineError) => e.code === 'JOB_CANCELLED');
    const ms = performance.now() - abortedAt;
    assert.ok(abortedAt > 0, 'the read was under way when the cancel came');
    assert.ok(ms < 1000, `stopped ${ms.toFixed(0)} ms after the cancel`);
    assert.deepEqual(fs.readdirSync(cacheDir), [], 'the half-written token files are gone');
  });

  it('refuses binary bytes deep inside a streamed file, naming the file and where', async () => {
    const file = asciiFile('tail-binary.txt', 50_000); // 3 MiB of text, then zeros
    fs.appendFileSync(file, Buffer.alloc(4096));
    const dataset = { source: { kind: 'file', path: 'tail-binary.txt', unit: 'line' }, split: 'documents', validationFraction: 0.1, cleaning: NO_CLEANING } as const;
    await assert.rejects(prepare(file, dataset, { kind: 'char' }, { streamAboveBytes: 0 }), (e: EngineError) =>
      e.code === 'INVALID_DATASET' && e.message.startsWith(`${file} (the part from byte 3145728): looks binary (a NUL byte at offset 54272)`));
  });

  it('refuses next-sentence prediction on a streamed file, saying what to do', async () => {
    const file = asciiFile('nsp.txt', 100);
    const dataset = { source: { kind: 'file', path: 'nsp.txt', unit: 'paragraph' }, split: 'tail', validationFraction: 0.1, cleaning: NO_CLEANING } as const;
    await assert.rejects(prepare(file, dataset, { kind: 'wordpiece', vocabSize: 200 }, { streamAboveBytes: 0, objective: 'mlm-nsp' }), (e: EngineError) =>
      e.code === 'INVALID_CONFIG' && /nsp\.txt: is 0 MiB and is read as a stream, which keeps no documents for next-sentence pairs; use objective 'mlm' or 'causal-lm'/.test(e.message));
  });

  it('masked LM on a streamed file draws [CLS] window [SEP] batches from the token files', async () => {
    const file = asciiFile('mlm.txt', 3_000);
    const dataset = { source: { kind: 'file', path: 'mlm.txt', unit: 'line' }, split: 'documents', validationFraction: 0.1, cleaning: NO_CLEANING } as const;
    const data = await prepare(file, dataset, { kind: 'wordpiece', vocabSize: 300 }, { streamAboveBytes: 0, objective: 'mlm' });
    try {
      const b = data.trainBatch(new Rng(2));
      const { cls, sep } = data.tokenizer.specialIds;
      for (let r = 0; r < b.B; r++) {
        assert.equal(b.inputIds[r * b.T], cls);
        assert.equal(b.inputIds[r * b.T + b.T - 1], sep);
      }
      assert.ok(data.streamed!.train.length > 10 * data.streamed!.validation.length / 2);
    } finally {
      data.close();
    }
  });
});
