/**
 * prepareData on texts whose validation split holds characters the training split lacks: each tokenizer
 * kind must still encode it (char learns its vocabulary from the whole text, as nanoGPT's prepare.py does;
 * byte-level BPE covers every byte; WordPiece has [UNK]). And a cache warning reaches the caller.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatasetConfig } from '../../common/datasetConfig';
import type { Objective } from '../../common/pretrainConfig';
import { TokenizerConfig, type TokenizerConfigInput } from '../../common/tokenizerConfig';
import { loadTextDataset } from '../data/dataset';
import { trainTokenizer } from '../tokenizers';
import { prepareData } from './pretrainData';

let tmp: string;
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-data-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let files = 0;
async function prepare(text: string, tokenizer: TokenizerConfigInput, objective: Objective, extra: { cacheDir?: string | null; onWarning?: (m: string) => void } = {}) {
  const file = `t${files++}.txt`;
  fs.writeFileSync(path.join(tmp, file), text);
  const dataset = DatasetConfig.parse({ source: { kind: 'file', path: file, unit: 'file' }, split: 'tail', validationFraction: 0.2, cleaning: { stripHtml: false, normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } });
  const data = await prepareData(dataset, TokenizerConfig.parse(tokenizer), {
    objective, batchSize: 2, seqLen: 8, maskProbability: 0.15, evalBatches: 1, seed: 1, baseDir: tmp, cacheDir: null,
    tokenizerFile: path.join(tmp, `${file}.tokenizer.json`), reuseTokenizer: false, ...extra,
  });
  const splits = await loadTextDataset(dataset, { baseDir: tmp });
  /** the tokenizer trained on these splits' sentences, for comparison */
  const trainedOn = (...sides: ('train' | 'validation')[]) => trainTokenizer(tokenizer, sides.flatMap((s) => splits[s].flatMap((d) => d.sentences))).id;
  return { data, trainedOn };
}

describe('prepareData', () => {
  const plain = 'the cat sat on the mat and the dog sat on the log. '.repeat(3);

  it('a char tokenizer knows the characters only the validation split has', async () => {
    // a one-line file: its trailing newline, and "é", fall into validation
    const { data, trainedOn } = await prepare(`${plain}café\n`, { kind: 'char' }, 'causal-lm');
    assert.ok(data.tokenizer.tokenToId('\n') !== undefined && data.tokenizer.tokenToId('é') !== undefined);
    assert.equal(data.tokenizer.id, trainedOn('train', 'validation'));
    assert.equal(data.validation.length, 1);
  });

  it('bpe and wordpiece stay trained on the training split and still encode unseen validation text', async () => {
    const bpe = await prepare(`${plain}café ☕\n`, { kind: 'bpe', vocabSize: 300, minFrequency: 1 }, 'causal-lm');
    assert.equal(bpe.data.tokenizer.id, bpe.trainedOn('train'));
    const val = bpe.data.dataset!.validation.tokens;
    assert.match(bpe.data.tokenizer.decode(Array.from(val)), /café ☕\n$/, 'every byte has a symbol');
    const wp = await prepare(`${plain}Ωmega ☕ zeta\n`, { kind: 'wordpiece', vocabSize: 200, minFrequency: 1 }, 'mlm');
    assert.equal(wp.data.tokenizer.id, wp.trainedOn('train'));
    assert.ok(wp.data.dataset!.validation.tokens.includes(wp.data.tokenizer.specialIds.unk!), 'unseen characters become [UNK]');
  });

  it('reports a cache warning to onWarning', async () => {
    const cacheDir = path.join(tmp, 'not-a-folder');
    fs.writeFileSync(cacheDir, 'a file where the cache folder should be');
    const warnings: string[] = [];
    await prepare(`${plain}\n`, { kind: 'char' }, 'causal-lm', { cacheDir, onWarning: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /could not write the dataset cache/);
  });
});
