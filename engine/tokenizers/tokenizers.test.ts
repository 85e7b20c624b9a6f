import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import type { TokenizerConfigInput } from '../../common/tokenizerConfig';
import { EngineError } from '../../common/errors';
import { bertNormalize, bertWords } from './bert';
import { hfTokenizerConfig, loadTokenizer, saveTokenizer, trainTokenizer, type Tokenizer, type TrainProgress } from './index';

// Read in place: the corpus belongs to shared/, not to the repository.
const SHAKESPEARE = path.resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt');
const corpus = fs.readFileSync(SHAKESPEARE, 'utf8');
const TRAIN = corpus.slice(0, 200_000);
/** a later passage the trainers never saw */
const HELD_BACK = corpus.slice(600_000, 615_000);
/** what Shakespeare lacks: accents, CJK, emoji, final sigma, digits, contractions, odd whitespace, specials in text */
const UNICODE = "Café naïve RÉSUMÉ — “quotes” 😀 ΣΑΣ 中文字 1234 don't it's   tabs\there\u00a0nbsp \u0085x\ufeffy\u2028 [MASK] [CLS]x\n\n";

let dir: string;
before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-tokenizers-')); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** Saves, then loads the file as Hugging Face's JS library does (tokenizer.json + tokenizer_config.json). */
function saveAndLoadInHf(tok: Tokenizer, name: string): { file: string; hf: HfTokenizer } {
  const file = path.join(dir, name, 'tokenizer.json');
  saveTokenizer(tok, file);
  fs.writeFileSync(path.join(dir, name, 'tokenizer_config.json'), JSON.stringify(hfTokenizerConfig(tok)));
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const config = JSON.parse(fs.readFileSync(path.join(dir, name, 'tokenizer_config.json'), 'utf8'));
  return { file, hf: new HfTokenizer(json, config) };
}

function firstDifference(a: number[], b: number[], tok: Tokenizer): string {
  const i = a.findIndex((x, k) => x !== b[k]);
  const at = i < 0 ? Math.min(a.length, b.length) : i;
  const show = (ids: number[]) => ids.slice(Math.max(0, at - 3), at + 3).map((id) => tok.idToToken(id));
  return `lengths ${a.length} / ${b.length}, first difference at ${at}: engine ${JSON.stringify(show(a))}, HF ${JSON.stringify(show(b))}`;
}

const CASES: { name: string; config: TokenizerConfigInput; train: string }[] = [
  // a char tokenizer knows only what it saw, so the odd characters are part of its corpus here
  { name: 'char', config: { kind: 'char', specials: true }, train: TRAIN + UNICODE },
  { name: 'bpe', config: { kind: 'bpe', vocabSize: 1000 }, train: TRAIN },
  { name: 'wordpiece', config: { kind: 'wordpiece', vocabSize: 1000 }, train: TRAIN },
  { name: 'wordpiece-cased', config: { kind: 'wordpiece', vocabSize: 1000, lowercase: false }, train: TRAIN },
];

describe('tokenizers: trained here, run by Hugging Face', () => {
  for (const c of CASES) {
    it(`${c.name}: the saved tokenizer.json loads in @huggingface/tokenizers and encodes held-back text to the engine's ids`, () => {
      const tok = trainTokenizer(c.config, c.train);
      const { file, hf } = saveAndLoadInHf(tok, c.name);
      const loaded = loadTokenizer(file);
      assert.equal(loaded.id, tok.id, 'the id is a hash of the content, so it survives save and load');

      const text = HELD_BACK + UNICODE;
      const ids = tok.encode(text);
      const hfIds = hf.encode(text, { add_special_tokens: false }).ids;
      assert.deepEqual(ids, hfIds, firstDifference(ids, hfIds, tok));
      assert.deepEqual(loaded.encode(text), ids);
      assert.equal(hf.decode(ids), tok.decode(ids), 'decoding agrees with HF too');
      assert.equal(tok.decode(ids, { skipSpecialTokens: true }), hf.decode(ids, { skip_special_tokens: true }));
      if (c.config.kind === 'wordpiece') {
        const { cls, sep } = tok.specialIds;
        assert.deepEqual(hf.encode('To be, or not to be').ids, [cls, ...tok.encode('To be, or not to be'), sep], 'HF frames a sequence as BERT: [CLS] … [SEP]');
      }
    });
  }

  it('decode round-trips: char and byte-level BPE exactly, WordPiece up to case and spacing', () => {
    for (const c of CASES) {
      const tok = trainTokenizer(c.config, c.train);
      const ids = tok.encode(HELD_BACK);
      if (c.config.kind !== 'wordpiece') {
        assert.equal(tok.decode(ids), HELD_BACK, c.name);
        assert.equal(tok.decode(tok.encode(UNICODE)), UNICODE, `${c.name} on unusual text`);
      } else {
        // A word the vocabulary cannot spell (the passage's "3" never occurs in the first 200 KB, a cased
        // "##W" never follows a capital there, so cased EDWARD cannot be spelled) is one [UNK]; every other word comes back as normalised.
        const lowercase = c.config.lowercase !== false;
        const words = [...bertWords(bertNormalize(HELD_BACK, { cleanText: true, handleChineseChars: true, stripAccents: null, lowercase }))];
        const unk = tok.specialIds.unk!;
        const expected = words.map((w) => (tok.encode(w).join() === String(unk) ? '[UNK]' : w));
        const unknown = expected.filter((w) => w === '[UNK]').length;
        assert.ok(unknown >= 1 && unknown < words.length / 100, `${unknown} of ${words.length} words unknown`);
        assert.equal(tok.decode(ids).replace(/\s+/g, ''), expected.join(''), c.name);
      }
    }
  });

  it('respects the requested vocabulary size and puts the special tokens at fixed ids', () => {
    for (const kind of ['bpe', 'wordpiece'] as const) {
      for (const vocabSize of [500, 2000]) {
        const tok = trainTokenizer({ kind, vocabSize }, TRAIN);
        assert.ok(tok.vocabSize <= vocabSize && tok.vocabSize >= 0.95 * vocabSize, `${kind} asked ${vocabSize}, got ${tok.vocabSize}`);
        assert.deepEqual(tok.specialIds, { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 });
        assert.deepEqual([0, 1, 2, 3, 4].map((id) => tok.idToToken(id)), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
        assert.deepEqual(tok.encode('[MASK] [PAD]').filter((id) => id < 5), [4, 0], 'special tokens in text become their ids');
      }
    }
    // minFrequency stops merging before the size is reached when pairs run out
    const rare = trainTokenizer({ kind: 'bpe', vocabSize: 50_000, minFrequency: 50 }, TRAIN);
    assert.ok(rare.vocabSize < 1000, `minFrequency 50 on 200 KB should leave a small vocabulary, got ${rare.vocabSize}`);
  });

  it("char tokenizer on the whole of tinyshakespeare: 65 characters with nanoGPT's ids", () => {
    const tok = trainTokenizer({ kind: 'char' }, corpus);
    assert.equal(tok.vocabSize, 65);
    assert.deepEqual(tok.specialIds, {}, 'a char GPT has no special tokens unless asked');
    // nanoGPT: chars = sorted(list(set(data))); stoi = { ch: i for i, ch in enumerate(chars) }
    const chars = [...new Set(corpus)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    assert.equal(chars.join(''), "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    const stoi = new Map(chars.map((c, i) => [c, i]));
    const sample = corpus.slice(0, 5000);
    assert.deepEqual(tok.encode(sample), [...sample].map((c) => stoi.get(c)));
    assert.throws(() => tok.encode('é'), (e: EngineError) => e.code === 'INVALID_DATASET' && /U\+00E9.*specials: true/.test(e.message));
    const withSpecials = trainTokenizer({ kind: 'char', specials: true }, corpus);
    assert.equal(withSpecials.vocabSize, 70);
    assert.deepEqual(withSpecials.specialIds, { pad: 65, unk: 66, cls: 67, sep: 68, mask: 69 });
    assert.deepEqual(withSpecials.encode('aé'), [stoi.get('a'), 66]);
  });

  it('is deterministic, and the id changes with the content', () => {
    const a = trainTokenizer({ kind: 'bpe', vocabSize: 600 }, TRAIN);
    const b = trainTokenizer({ kind: 'bpe', vocabSize: 600 }, [TRAIN.slice(0, 100_000), TRAIN.slice(100_000)]);
    const c = trainTokenizer({ kind: 'bpe', vocabSize: 601 }, TRAIN);
    assert.match(a.id, /^[0-9a-f]{16}$/);
    assert.equal(a.id, trainTokenizer({ kind: 'bpe', vocabSize: 600 }, TRAIN).id);
    assert.notEqual(a.id, c.id);
    // documents are counted apart, so a split may only change counts of pieces that straddled it
    assert.ok(Math.abs(a.vocabSize - b.vocabSize) <= 1);
  });

  it('reports progress through counting and merging', () => {
    const seen: TrainProgress[] = [];
    const tok = trainTokenizer({ kind: 'wordpiece', vocabSize: 800 }, [TRAIN.slice(0, 100_000), TRAIN.slice(100_000)], (p) => seen.push(p));
    assert.deepEqual(seen.filter((p) => p.phase === 'counting').map((p) => p.phase === 'counting' && p.chars), [100_000, 200_000]);
    const last = seen[seen.length - 1];
    assert.deepEqual(last, { phase: 'merging', vocab: tok.vocabSize, target: 800 });
  });

  it('saves atomically and refuses a bad config, a malformed file or an unknown model type with a clear message', () => {
    const tok = trainTokenizer({ kind: 'bpe', vocabSize: 300 }, TRAIN.slice(0, 20_000));
    const sub = path.join(dir, 'refusals');
    const file = path.join(sub, 'tokenizer.json');
    saveTokenizer(tok, file);
    saveTokenizer(tok, file); // over an existing file
    assert.deepEqual(fs.readdirSync(sub), ['tokenizer.json'], 'no temporary file is left behind');

    const refused = (content: string | object, pattern: RegExp) => {
      const bad = path.join(sub, 'bad.json');
      fs.writeFileSync(bad, typeof content === 'string' ? content : JSON.stringify(content));
      assert.throws(() => loadTokenizer(bad), (e: EngineError) => {
        assert.equal(e.code, 'INVALID_CONFIG');
        assert.ok(e.message.startsWith(bad), `names the file: ${e.message}`);
        assert.match(e.message, pattern);
        return true;
      });
    };
    const good = tok.toJSON();
    refused('{"model": {"type": "BPE", ', /not valid JSON/);
    refused('[1, 2]', /not a JSON object/);
    refused({ version: '1.0' }, /no "model" object/);
    refused({ ...good, model: { ...good.model, type: 'Unigram' } }, /model\.type "Unigram" is not one this workbench runs; it reads BPE, WordPiece, WordLevel/);
    refused({ ...good, model: { ...good.model, merges: undefined } }, /model\.merges/);
    refused({ ...good, model: { ...good.model, merges: ['Ġ zzzz'] } }, /model\.merges\[0\].*missing from model\.vocab/);
    refused({ ...good, pre_tokenizer: { type: 'Metaspace' } }, /pre_tokenizer .*Metaspace.* byte-level/);
    refused({ ...good, added_tokens: [{ id: 7, content: '[PAD]', special: true }] }, /added token "\[PAD\]" has id 7 but model\.vocab gives it 0/);
    refused({ ...good, model: { ...good.model, vocab: { ...good.model.vocab, extra: 7 } } }, /model\.vocab gives id 7 to both .* and "extra"/);
    refused({ ...good, model: { ...good.model, vocab: { ...good.model.vocab, huge: 2 ** 30 } } }, /model\.vocab\.huge: token ids must be below/);
    assert.throws(() => loadTokenizer(path.join(sub, 'absent.json')), /absent\.json: cannot be read \(ENOENT\)/);

    assert.throws(() => trainTokenizer({ kind: 'bpe', vocabSize: 100 }, TRAIN), (e: EngineError) =>
      e.code === 'INVALID_CONFIG' && /^tokenizer\.vocabSize: vocabSize must be at least 261/.test(e.message));
    assert.throws(() => trainTokenizer({ kind: 'wordpiece', vocabSize: 40 }, TRAIN), /raise vocabSize above \d+/);
    assert.throws(() => trainTokenizer({ kind: 'char' }, ['']), (e: EngineError) => e.code === 'INVALID_DATASET');
  });
});
