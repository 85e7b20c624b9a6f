/**
 * The part of Hugging Face's `tokenizer.json` format this engine writes and reads: its schema (a file is
 * checked against it before anything is built from it) and the documents for the three kinds of
 * tokenizer it trains. Fields keep HF's names and order, so `tokenizers` (Rust/Python), transformers and
 * `@huggingface/tokenizers` load these files as their own.
 */
import { z } from 'zod';
import { SPECIAL_NAMES, SPECIAL_TOKENS } from '../../common/tokenizerConfig';

export const AddedTokenJson = z.looseObject({
  id: z.number().int().min(0),
  content: z.string().min(1),
  single_word: z.boolean().default(false),
  lstrip: z.boolean().default(false),
  rstrip: z.boolean().default(false),
  normalized: z.boolean().default(false),
  special: z.boolean().default(false),
});
export type AddedTokenJson = z.output<typeof AddedTokenJson>;

// Ids stay below 2^21 so that a pair of them packs into one number key (bpeTrainer.ts, tokenizer.ts).
export const MAX_VOCAB = 2 ** 21;
const Vocab = z.record(z.string(), z.number().int().min(0).max(MAX_VOCAB - 1, { message: `token ids must be below ${MAX_VOCAB}` }));

export const BpeModelJson = z.looseObject({
  type: z.literal('BPE'),
  dropout: z.number().nullable().default(null),
  unk_token: z.string().nullable().default(null),
  continuing_subword_prefix: z.string().nullable().default(null),
  end_of_word_suffix: z.string().nullable().default(null),
  fuse_unk: z.boolean().default(false),
  byte_fallback: z.boolean().default(false),
  ignore_merges: z.boolean().default(false),
  vocab: Vocab,
  // "a b" (tokenizers < 0.20) or ["a", "b"] (newer): both are read.
  merges: z.array(z.union([z.string(), z.tuple([z.string(), z.string()])])),
});
export const WordPieceModelJson = z.looseObject({
  type: z.literal('WordPiece'),
  unk_token: z.string(),
  continuing_subword_prefix: z.string().default('##'),
  max_input_chars_per_word: z.number().int().min(1).default(100),
  vocab: Vocab,
});
export const WordLevelModelJson = z.looseObject({
  type: z.literal('WordLevel'),
  unk_token: z.string().default('<unk>'),
  vocab: Vocab,
});
export const ModelJson = z.discriminatedUnion('type', [BpeModelJson, WordPieceModelJson, WordLevelModelJson]);
export const MODEL_TYPES = ['BPE', 'WordPiece', 'WordLevel'] as const;

/** Components are kept as loose objects; each tokenizer class checks the ones it runs. */
const Component = z.looseObject({ type: z.string() }).nullable().default(null);

export const TokenizerJson = z.looseObject({
  version: z.string().default('1.0'),
  truncation: z.unknown().default(null),
  padding: z.unknown().default(null),
  added_tokens: z.array(AddedTokenJson).default([]),
  normalizer: Component,
  pre_tokenizer: Component,
  post_processor: Component,
  decoder: Component,
  model: ModelJson,
});
export type TokenizerJson = z.output<typeof TokenizerJson>;
export type ModelJson = z.output<typeof ModelJson>;

/** The pre-tokenizer of a char tokenizer: every character is its own piece (newlines too). */
export const CHAR_SPLIT = { type: 'Split', pattern: { Regex: '[\\s\\S]' }, behavior: 'Isolated', invert: false } as const;

function specialTokensJson(firstId: number): AddedTokenJson[] {
  return SPECIAL_NAMES.map((name, i) => ({
    id: firstId + i, content: SPECIAL_TOKENS[name], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
}

const skeleton = (added: AddedTokenJson[]) => ({ version: '1.0', truncation: null, padding: null, added_tokens: added });

const toVocab = (tokens: readonly string[]) => Object.fromEntries(tokens.map((t, i) => [t, i]));

/** Characters as ids 0 … n-1 in the order given; specials, if wanted, after them. */
export function charJson(chars: readonly string[], specials: boolean): TokenizerJson {
  const added = specials ? specialTokensJson(chars.length) : [];
  return {
    ...skeleton(added),
    normalizer: null,
    pre_tokenizer: { ...CHAR_SPLIT, pattern: { ...CHAR_SPLIT.pattern } },
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: { type: 'WordLevel', vocab: toVocab([...chars, ...added.map((t) => t.content)]), unk_token: SPECIAL_TOKENS.unk },
  };
}

/** GPT-2's layout (ByteLevel pre-tokenizer, post-processor and decoder) around a trained BPE. */
export function byteLevelBpeJson(vocab: readonly string[], merges: readonly [string, string][]): TokenizerJson {
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    ...skeleton(specialTokensJson(0)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: { type: 'ByteLevel', ...byteLevel },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab: toVocab(vocab),
      // The "a b" form: every HF reader knows it, and byte-level symbols never contain a space.
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** bert-base-uncased's layout: BertNormalizer, BertPreTokenizer, [CLS] A [SEP] / [CLS] A [SEP] B [SEP]. */
export function wordPieceJson(vocab: readonly string[], lowercase: boolean): TokenizerJson {
  const { cls, sep, unk } = SPECIAL_TOKENS;
  const ids = toVocab(vocab);
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    ...skeleton(specialTokensJson(0)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(cls, 0), seq('A', 0), special(sep, 0)],
      pair: [special(cls, 0), seq('A', 0), special(sep, 0), seq('B', 1), special(sep, 1)],
      special_tokens: {
        [cls]: { id: cls, ids: [ids[cls]], tokens: [cls] },
        [sep]: { id: sep, ids: [ids[sep]], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: unk, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: ids },
  };
}
