/**
 * Tokenizers: train one on a dataset, save it as Hugging Face's tokenizer.json, load it back.
 *
 * Training is done here rather than by HF's `tokenizers` npm package: its Node API trains only with the
 * default trainer (vocabulary 30000, no minimum frequency, no special tokens at fixed ids, no byte
 * alphabet), so none of the options this workbench offers could be honoured. The trainers follow HF's
 * algorithms (see bpeTrainer.ts) and the files they write load in HF's libraries; the tests prove that
 * `@huggingface/tokenizers` encodes text to the very ids this engine does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../../common/errors';
import { invalidConfig } from '../../common/zodIssues';
import { SPECIAL_NAMES, SPECIAL_TOKENS, TokenizerConfig, type TokenizerConfigInput } from '../../common/tokenizerConfig';
import { bertNormalize, bertWords } from './bert';
import { BYTE_ALPHABET, gpt2Pieces, toByteLevel } from './byteLevel';
import { trainBpeSteps } from './bpeTrainer';
import { Pacer, runCooperatively, runToEnd, type Steps } from '../util/cooperative';
import { tokenizerFromJSON, type Tokenizer } from './tokenizer';
import { byteLevelBpeJson, charJson, wordPieceJson, type TokenizerJson } from './tokenizerJson';
import { writeFileAtomicSync } from '../../common/node/atomicWrite';

export { tokenizerFromJSON, type Tokenizer, type DecodeOptions } from './tokenizer';
export type { TokenizerJson } from './tokenizerJson';

export type TrainProgress =
  | { phase: 'counting'; chars: number }
  | { phase: 'merging'; vocab: number; target: number };

/**
 * A tokenizer's training, fed text by text and then run as steps (../util/cooperative.ts), so that a run can feed it
 * a stream or a sample and keep the engine responsive while it merges. Memory grows with the distinct pieces (BPE,
 * WordPiece) or characters (char) it has seen, never with the text itself.
 */
export class TokenizerTrainer {
  private readonly c: TokenizerConfig;
  private readonly seen = new Set<string>();
  private readonly pieces = new Map<string, number>();
  /** characters fed so far */
  chars = 0;

  constructor(config: TokenizerConfigInput, private readonly onProgress?: (p: TrainProgress) => void) {
    const parsed = TokenizerConfig.safeParse(config);
    if (!parsed.success) throw invalidConfig(parsed.error, ['tokenizer']);
    this.c = parsed.data;
  }

  /** Counts one text (a document or a sentence: pieces never straddle two texts). */
  add(t: string): void {
    const c = this.c;
    const count = (w: string) => this.pieces.set(w, (this.pieces.get(w) ?? 0) + 1);
    if (c.kind === 'char') this.addChars(t);
    else if (c.kind === 'bpe') for (const p of gpt2Pieces(t)) count(p);
    else for (const w of bertWords(bertNormalize(t, { cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: c.lowercase }))) count(w);
    this.chars += t.length;
    this.onProgress?.({ phase: 'counting', chars: this.chars });
  }

  /** Code units already in `seen`: a flag per unit is checked at memory speed, where a Set of strings would hash every character of a large corpus. */
  private readonly seenUnits = new Uint8Array(0x10000);

  private addChars(t: string): void {
    for (let i = 0; i < t.length; i++) {
      const u = t.charCodeAt(i);
      if (u >= 0xd800 && u <= 0xdbff && i + 1 < t.length) { // a pair of surrogates is one character
        const cp = t.codePointAt(i)!;
        if (cp > 0xffff) { this.seen.add(String.fromCodePoint(cp)); i++; continue; }
      }
      if (!this.seenUnits[u]) { this.seenUnits[u] = 1; this.seen.add(String.fromCharCode(u)); }
    }
  }

  /** The training proper, on what was fed: yields between merges. */
  *steps(): Steps<Tokenizer> {
    const c = this.c;
    if (c.kind === 'char') {
      if (this.seen.size === 0) throw emptyCorpus();
      // nanoGPT's stoi: sorted(set(text)); Python orders strings by code point, as this comparison does.
      const sorted = [...this.seen].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
      return tokenizerFromJSON(charJson(sorted, c.specials), 'trained char tokenizer');
    }
    if (this.pieces.size === 0) throw emptyCorpus();
    const specialTokens = SPECIAL_NAMES.map((n) => SPECIAL_TOKENS[n]);
    const onProgress = this.onProgress;
    const progress = onProgress && ((vocab: number, target: number) => onProgress({ phase: 'merging', vocab, target }));

    if (c.kind === 'bpe') {
      const words = new Map<string, number>();
      for (const [p, n] of this.pieces) words.set(toByteLevel(p), n);
      const r = yield* trainBpeSteps(words, { vocabSize: c.vocabSize, minFrequency: c.minFrequency, specialTokens, initialAlphabet: BYTE_ALPHABET, onProgress: progress });
      return tokenizerFromJSON(byteLevelBpeJson(r.vocab, r.merges), 'trained bpe tokenizer');
    }

    const r = yield* trainBpeSteps(this.pieces, { vocabSize: c.vocabSize, minFrequency: c.minFrequency, specialTokens, continuingSubwordPrefix: '##', onProgress: progress });
    if (r.vocab.length > c.vocabSize) {
      throw new EngineError('INVALID_CONFIG', `tokenizer.vocabSize: the corpus has ${r.vocab.length - specialTokens.length} distinct characters and ## forms, more than vocabSize ${c.vocabSize} leaves room for; raise vocabSize above ${r.vocab.length}`, ['tokenizer', 'vocabSize']);
    }
    return tokenizerFromJSON(wordPieceJson(r.vocab, c.lowercase), 'trained wordpiece tokenizer');
  }
}

/** Trains a tokenizer of the configured kind on the texts (a dataset's documents, or one string), in one go. */
export function trainTokenizer(config: TokenizerConfigInput, texts: Iterable<string> | string, onProgress?: (p: TrainProgress) => void): Tokenizer {
  const trainer = new TokenizerTrainer(config, onProgress);
  for (const t of typeof texts === 'string' ? [texts] : texts) trainer.add(t);
  return runToEnd(trainer.steps());
}

/**
 * The same training, giving the event loop a turn every SLICE_MS (counting and merging alike) and stopping at a
 * cancel: what the engine runs, so that no command waits on a tokenizer for long.
 */
export async function trainTokenizerCooperatively(config: TokenizerConfigInput, texts: Iterable<string> | AsyncIterable<string>, o: { onProgress?: (p: TrainProgress) => void; signal?: AbortSignal } = {}): Promise<Tokenizer> {
  const trainer = new TokenizerTrainer(config, o.onProgress);
  const pacer = new Pacer('training the tokenizer', o.signal);
  for await (const t of texts) {
    trainer.add(t);
    if (pacer.due()) await pacer.turn();
  }
  return runCooperatively(trainer.steps(), 'training the tokenizer', o.signal);
}

function emptyCorpus(): EngineError {
  return new EngineError('INVALID_DATASET', 'the dataset has no text to train a tokenizer on; add documents with some text');
}

/** Writes tokenizer.json atomically: a crash leaves the old file or the new one, never half of one. */
export function saveTokenizer(tokenizer: Tokenizer, file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomicSync(file, JSON.stringify(tokenizer.toJSON(), null, 2) + '\n');
}

/** Reads a tokenizer.json; a file that is not one this engine can run is refused with a message naming it. */
export function loadTokenizer(file: string): Tokenizer {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new EngineError('INVALID_CONFIG', `${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the tokenizer path`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new EngineError('INVALID_CONFIG', `${file}: is not valid JSON (${(e as Error).message}); save the tokenizer again or point to another tokenizer.json`);
  }
  return tokenizerFromJSON(doc, file);
}

/**
 * The tokenizer_config.json that goes beside tokenizer.json: names the special tokens' roles, which
 * tokenizer.json alone does not, so that transformers and @huggingface/tokenizers know [PAD] is padding.
 */
export function hfTokenizerConfig(tokenizer: Tokenizer): Record<string, unknown> {
  const json: TokenizerJson = tokenizer.toJSON();
  const roles: Record<string, string> = {};
  for (const name of SPECIAL_NAMES) if (tokenizer.specialIds[name] !== undefined) roles[`${name}_token`] = SPECIAL_TOKENS[name];
  const normalizer = json.normalizer as { lowercase?: boolean } | null;
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    ...roles,
    ...(tokenizer.kind === 'wordpiece' ? { do_lower_case: normalizer?.lowercase !== false } : {}),
    // The decoders already undo their own spacing; transformers' extra clean-up would change the text.
    clean_up_tokenization_spaces: false,
  };
}
