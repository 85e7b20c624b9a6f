/**
 * A tokenizer at run time, always built from a `tokenizer.json` document: what is saved is exactly what
 * runs. Encoding re-implements the three HF pipelines this engine writes (char WordLevel, GPT-2 byte-level
 * BPE, BERT WordPiece) with per-word caches, because the pure-JS `@huggingface/tokenizers` is 4
 * to 15 times slower on multi-MB corpora (bench.ts measures both; tokenizers.test.ts proves the ids equal).
 */
import crypto from 'node:crypto';
import { SPECIAL_NAMES, SPECIAL_TOKENS, type SpecialIds, type TokenizerKind } from '../../common/tokenizerConfig';
import { EngineError } from '../../common/errors';
import { bertNormalize, bertWords, type BertNormalizerOptions } from './bert';
import { fromByteLevel, gpt2Pieces, BYTE_TO_CHAR } from './byteLevel';
import { CHAR_SPLIT, MAX_VOCAB, MODEL_TYPES, TokenizerJson, type AddedTokenJson, type ModelJson } from './tokenizerJson';
import { formatIssues } from '../../common/zodIssues';

export interface DecodeOptions {
  /** leave [PAD], [CLS] … out of the text (default: keep them, so that masked or padded spots show) */
  skipSpecialTokens?: boolean;
}

export interface Tokenizer {
  /** a stable hash of the tokenizer.json content: equal ids, equal tokenization (a cache key) */
  readonly id: string;
  readonly kind: TokenizerKind;
  /** one past the largest id: the embedding table's rows */
  readonly vocabSize: number;
  readonly specialIds: SpecialIds;
  /** the text's ids, without [CLS]/[SEP] (the data pipeline frames sequences itself) */
  encode(text: string): number[];
  decode(ids: readonly number[], options?: DecodeOptions): string;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  /** the Hugging Face tokenizer.json document */
  toJSON(): TokenizerJson;
}

const SHIFT = MAX_VOCAB; // pair key = left * SHIFT + right
const CACHE_LIMIT = 1 << 18;

/** What the three kinds share: the vocabulary tables and HF's added-token handling. */
abstract class JsonTokenizer implements Tokenizer {
  readonly id: string;
  abstract readonly kind: TokenizerKind;
  readonly vocabSize: number;
  readonly specialIds: SpecialIds = {};
  protected readonly tokens: (string | undefined)[] = [];
  protected readonly ids = new Map<string, number>();
  protected readonly specialSet = new Set<number>();
  private readonly addedIds = new Map<string, number>();
  private readonly addedPattern: RegExp | null;

  constructor(private readonly json: TokenizerJson, vocab: Record<string, number>, added: readonly AddedTokenJson[]) {
    for (const [t, i] of Object.entries(vocab)) { this.tokens[i] = t; this.ids.set(t, i); }
    for (const t of added) {
      this.tokens[t.id] = t.content;
      this.ids.set(t.content, t.id);
      this.addedIds.set(t.content, t.id);
      if (t.special) this.specialSet.add(t.id);
    }
    this.vocabSize = this.tokens.length;
    for (const name of SPECIAL_NAMES) {
      const id = this.addedIds.get(SPECIAL_TOKENS[name]);
      if (id !== undefined) this.specialIds[name] = id;
    }
    // Added tokens are cut out of the raw text before anything else, longest first (HF's leftmost-longest).
    const contents = [...this.addedIds.keys()].sort((a, b) => b.length - a.length);
    this.addedPattern = contents.length ? new RegExp(contents.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : null;
    this.id = crypto.createHash('sha256').update(JSON.stringify(json)).digest('hex').slice(0, 16);
  }

  encode(text: string): number[] {
    const out: number[] = [];
    if (!this.addedPattern) { this.encodeOrdinary(text, out); return out; }
    const re = new RegExp(this.addedPattern);
    let from = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m.index > from) this.encodeOrdinary(text.slice(from, m.index), out);
      out.push(this.addedIds.get(m[0])!);
      from = m.index + m[0].length;
    }
    if (from < text.length) this.encodeOrdinary(from === 0 ? text : text.slice(from), out);
    return out;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (const id of ids) {
      const t = this.tokens[id];
      if (t === undefined) throw new EngineError('INVALID_CONFIG', `cannot decode id ${id}: this tokenizer's ids run from 0 to ${this.vocabSize - 1}`);
      if (options.skipSpecialTokens && this.specialSet.has(id)) continue;
      tokens.push(t);
    }
    return this.decodeTokens(tokens);
  }

  idToToken(id: number): string | undefined { return this.tokens[id]; }
  tokenToId(token: string): number | undefined { return this.ids.get(token); }
  toJSON(): TokenizerJson { return structuredClone(this.json); }

  /** appends the ids of text that holds no added token */
  protected abstract encodeOrdinary(text: string, out: number[]): void;
  protected abstract decodeTokens(tokens: string[]): string;
}

/** One id per character (code point), as nanoGPT's `stoi`. */
class CharTokenizer extends JsonTokenizer {
  readonly kind = 'char' as const;
  private readonly bmp = new Int32Array(0x10000).fill(-1);
  private readonly unk: number | undefined;

  constructor(json: TokenizerJson, model: Extract<ModelJson, { type: 'WordLevel' }>) {
    super(json, model.vocab, json.added_tokens);
    for (const [t, i] of Object.entries(model.vocab)) if (t.length === 1) this.bmp[t.charCodeAt(0)] = i;
    this.unk = this.ids.get(model.unk_token);
  }

  protected encodeOrdinary(text: string, out: number[]): void {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      let id = this.bmp[code];
      if (id < 0) {
        const cp = text.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        if (ch.length === 2) i++;
        const found = this.ids.get(ch) ?? this.unk;
        if (found === undefined) {
          throw new EngineError('INVALID_DATASET', `the text holds ${JSON.stringify(ch)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}), a character this char tokenizer was not trained on; retrain it on text that has it, or train with specials: true so that unknown characters become [UNK]`);
        }
        id = found;
      }
      out.push(id);
    }
  }

  protected decodeTokens(tokens: string[]): string { return tokens.join(''); }
}

/** GPT-2's byte-level BPE: regex pieces, their UTF-8 bytes, merges applied lowest rank first. */
class ByteLevelBpeTokenizer extends JsonTokenizer {
  readonly kind = 'bpe' as const;
  private readonly byteIds: number[];
  private readonly ranks = new Map<number, number>();
  private readonly mergeLeft: number[] = [];
  private readonly mergeRight: number[] = [];
  private readonly mergeResult: number[] = [];
  private cache = new Map<string, number[]>();
  private readonly utf8 = new TextEncoder();

  constructor(json: TokenizerJson, model: Extract<ModelJson, { type: 'BPE' }>, private readonly addPrefixSpace: boolean, where: string) {
    super(json, model.vocab, json.added_tokens);
    // A Map, not the vocab object: a token such as "constructor" must not find Object's prototype.
    const vocab = new Map(Object.entries(model.vocab));
    this.byteIds = BYTE_TO_CHAR.map((c, b) => {
      const id = vocab.get(c);
      if (id === undefined) throw invalid(where, `model.vocab lacks the symbol ${JSON.stringify(c)} of byte ${b}; a byte-level BPE needs all 256 byte symbols`);
      return id;
    });
    model.merges.forEach((m, rank) => {
      const [a, b] = typeof m === 'string' ? splitMerge(m) : m;
      const ia = vocab.get(a), ib = vocab.get(b), ir = vocab.get(a + b);
      if (ia === undefined || ib === undefined || ir === undefined) {
        throw invalid(where, `model.merges[${rank}] (${JSON.stringify(m)}) names a token missing from model.vocab`);
      }
      // A repeated merge takes its later rank, as HF's readers do.
      this.ranks.set(ia * SHIFT + ib, rank);
      this.mergeLeft[rank] = ia; this.mergeRight[rank] = ib; this.mergeResult[rank] = ir;
    });
  }

  protected encodeOrdinary(text: string, out: number[]): void {
    for (const piece of gpt2Pieces(text, this.addPrefixSpace)) {
      let ids = this.cache.get(piece);
      if (!ids) {
        ids = this.bpe(this.symbols(piece));
        if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
        this.cache.set(piece, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  private symbols(piece: string): number[] {
    const sym: number[] = [];
    let ascii = true;
    for (let i = 0; i < piece.length; i++) if (piece.charCodeAt(i) > 0x7f) { ascii = false; break; }
    if (ascii) for (let i = 0; i < piece.length; i++) sym.push(this.byteIds[piece.charCodeAt(i)]);
    else for (const b of this.utf8.encode(piece)) sym.push(this.byteIds[b]);
    return sym;
  }

  /** The lowest-ranked pair is merged everywhere, left to right, until no pair has a rank. */
  private bpe(sym: number[]): number[] {
    while (sym.length > 1) {
      let best = Infinity;
      for (let i = 0; i + 1 < sym.length; i++) {
        const r = this.ranks.get(sym[i] * SHIFT + sym[i + 1]);
        if (r !== undefined && r < best) best = r;
      }
      if (best === Infinity) break;
      const a = this.mergeLeft[best], b = this.mergeRight[best], m = this.mergeResult[best];
      const next: number[] = [];
      for (let i = 0; i < sym.length; i++) {
        if (sym[i] === a && i + 1 < sym.length && sym[i + 1] === b) { next.push(m); i++; } else next.push(sym[i]);
      }
      sym = next;
    }
    return sym;
  }

  protected decodeTokens(tokens: string[]): string { return fromByteLevel(tokens); }
}

/** BERT's WordPiece: normalise, split into words, then greedy longest-match-first with ## continuations. */
class WordPieceTokenizer extends JsonTokenizer {
  readonly kind = 'wordpiece' as const;
  private readonly unk: number;
  private readonly prefix: string;
  private readonly maxChars: number;
  private readonly cleanup: boolean;
  private cache = new Map<string, number[]>();

  constructor(json: TokenizerJson, model: Extract<ModelJson, { type: 'WordPiece' }>, private readonly normalizer: BertNormalizerOptions | null, where: string) {
    super(json, model.vocab, json.added_tokens);
    const unk = Object.hasOwn(model.vocab, model.unk_token) ? model.vocab[model.unk_token] : undefined;
    if (unk === undefined) throw invalid(where, `model.unk_token ${JSON.stringify(model.unk_token)} is not in model.vocab; WordPiece needs it for words it cannot spell`);
    this.unk = unk;
    this.prefix = model.continuing_subword_prefix;
    this.maxChars = model.max_input_chars_per_word;
    const decoder = json.decoder as { type: string; prefix?: string; cleanup?: boolean } | null;
    this.cleanup = decoder?.type === 'WordPiece' ? decoder.cleanup !== false : false;
  }

  protected encodeOrdinary(text: string, out: number[]): void {
    const normalized = this.normalizer ? bertNormalize(text, this.normalizer) : text;
    for (const word of bertWords(normalized)) {
      let ids = this.cache.get(word);
      if (!ids) {
        ids = this.pieces(word);
        if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
        this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  private pieces(word: string): number[] {
    const chars = Array.from(word);
    if (chars.length > this.maxChars) return [this.unk];
    const ids: number[] = [];
    for (let start = 0; start < chars.length;) {
      let end = chars.length, found: number | undefined;
      for (; end > start; end--) {
        const sub = (start > 0 ? this.prefix : '') + chars.slice(start, end).join('');
        found = this.ids.get(sub);
        if (found !== undefined) break;
      }
      if (found === undefined) return [this.unk];
      ids.push(found);
      start = end;
    }
    return ids;
  }

  /** HF's WordPiece decoder: `##` pieces join the previous one, others get a space; then its cleanup. */
  protected decodeTokens(tokens: string[]): string {
    return tokens.map((t, i) => {
      if (i > 0) t = t.startsWith(this.prefix) ? t.slice(this.prefix.length) : ' ' + t;
      return this.cleanup ? wordPieceCleanup(t) : t;
    }).join('');
  }
}

function wordPieceCleanup(s: string): string {
  return s.replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',').replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(' do not', " don't").replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}

function splitMerge(m: string): [string, string] {
  const at = m.indexOf(' ');
  return at < 0 ? [m, ''] : [m.slice(0, at), m.slice(at + 1)];
}

function invalid(where: string, why: string): EngineError {
  return new EngineError('INVALID_CONFIG', `${where}: ${why}`);
}

/**
 * Builds the run-time tokenizer of a tokenizer.json document, refusing what this engine cannot run
 * exactly as HF would. `where` names the source (a file path) in every message.
 */
export function tokenizerFromJSON(doc: unknown, where = 'tokenizer.json'): Tokenizer {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid(where, 'is not a JSON object; a tokenizer.json holds an object with a "model" field');
  const model = (doc as { model?: unknown }).model;
  if (typeof model !== 'object' || model === null) throw invalid(where, 'has no "model" object; is this a Hugging Face tokenizer.json?');
  const type = (model as { type?: unknown }).type;
  if (!MODEL_TYPES.includes(type as never)) {
    throw invalid(where, `model.type ${JSON.stringify(type)} is not one this workbench runs; it reads ${MODEL_TYPES.join(', ')} (byte-level BPE, BERT WordPiece, character WordLevel) — retrain the tokenizer here`);
  }
  const parsed = TokenizerJson.safeParse(doc);
  if (!parsed.success) {
    throw invalid(where, formatIssues(parsed.error));
  }
  const json = parsed.data;
  const owner = new Map<number, string>();
  for (const [t, id] of Object.entries(json.model.vocab)) {
    const other = owner.get(id);
    if (other !== undefined) throw invalid(where, `model.vocab gives id ${id} to both ${JSON.stringify(other)} and ${JSON.stringify(t)}; each id must name one token`);
    owner.set(id, t);
  }
  for (const t of json.added_tokens) {
    const inVocab = Object.hasOwn(json.model.vocab, t.content) ? json.model.vocab[t.content] : undefined;
    if (inVocab !== undefined && inVocab !== t.id) throw invalid(where, `added token ${JSON.stringify(t.content)} has id ${t.id} but model.vocab gives it ${inVocab}`);
  }
  const m = json.model;
  const pre = json.pre_tokenizer as Record<string, unknown> | null;
  const unsupported = (what: string, value: unknown, need: string) =>
    invalid(where, `${what} ${JSON.stringify(value)} is not supported with a ${m.type} model; this engine runs ${need}`);
  switch (m.type) {
    case 'WordLevel': {
      const p = pre as { type?: string; pattern?: { Regex?: string }; behavior?: string; invert?: boolean } | null;
      if (!p || p.type !== 'Split' || p.pattern?.Regex !== CHAR_SPLIT.pattern.Regex || p.behavior !== 'Isolated' || p.invert) {
        throw unsupported('pre_tokenizer', pre, 'the character-level WordLevel tokenizer this workbench trains');
      }
      if (json.normalizer) throw unsupported('normalizer', json.normalizer, 'character tokenizers without a normalizer');
      return new CharTokenizer(json, m);
    }
    case 'BPE': {
      if (!pre || pre.type !== 'ByteLevel' || pre.use_regex === false) throw unsupported('pre_tokenizer', pre, "GPT-2's byte-level BPE (pre_tokenizer ByteLevel with use_regex)");
      if (json.normalizer) throw unsupported('normalizer', json.normalizer, 'byte-level BPE without a normalizer (as GPT-2)');
      if (m.continuing_subword_prefix || m.end_of_word_suffix || m.byte_fallback || m.ignore_merges) {
        throw invalid(where, 'model options continuing_subword_prefix, end_of_word_suffix, byte_fallback and ignore_merges are not supported; this engine runs GPT-2-style byte-level BPE');
      }
      return new ByteLevelBpeTokenizer(json, m, pre.add_prefix_space === true, where);
    }
    case 'WordPiece': {
      if (!pre || pre.type !== 'BertPreTokenizer') throw unsupported('pre_tokenizer', pre, "BERT's WordPiece (pre_tokenizer BertPreTokenizer)");
      const n = json.normalizer as Record<string, unknown> | null;
      if (n && n.type !== 'BertNormalizer') throw unsupported('normalizer', n, "BERT's WordPiece (normalizer BertNormalizer)");
      const normalizer: BertNormalizerOptions | null = n ? {
        cleanText: n.clean_text !== false,
        handleChineseChars: n.handle_chinese_chars !== false,
        stripAccents: typeof n.strip_accents === 'boolean' ? n.strip_accents : null,
        lowercase: n.lowercase !== false,
      } : null;
      return new WordPieceTokenizer(json, m, normalizer, where);
    }
  }
}
