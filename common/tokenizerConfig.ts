import { z } from 'zod';

/**
 * How a dataset's text becomes token ids. Three kinds, each saved as a Hugging Face `tokenizer.json`
 * that HF's own libraries (Rust `tokenizers`, `@huggingface/tokenizers`, transformers) load unchanged:
 * - char: one id per character (nanoGPT's shakespeare_char), a WordLevel model over single characters;
 * - bpe: byte-level BPE as GPT-2 (its pre-tokenizer regex, 256 byte symbols, merges by frequency);
 * - wordpiece: BERT's WordPiece (BertNormalizer, BertPreTokenizer, `##` continuations).
 */

/**
 * The special tokens, in id order: bpe and wordpiece put them first (ids 0–4, as HF's trainers do), so a
 * model's [PAD] is 0 whatever the corpus. A char tokenizer appends them after the characters, if at all.
 */
export const SPECIAL_TOKENS = { pad: '[PAD]', unk: '[UNK]', cls: '[CLS]', sep: '[SEP]', mask: '[MASK]' } as const;
export type SpecialName = keyof typeof SPECIAL_TOKENS;
export const SPECIAL_NAMES = Object.keys(SPECIAL_TOKENS) as SpecialName[];

/** Byte-level BPE starts from the 5 special tokens and all 256 byte symbols before its first merge. */
export const BPE_MIN_VOCAB = SPECIAL_NAMES.length + 256;

const vocabSize = (min: number, why: string) => z.number().int()
  .min(min, { message: `vocabSize must be at least ${min} (${why}); raise it (8000 is a good start for a few MB of text)` })
  .max(1 << 20, { message: 'vocabSize must be at most 1048576; a larger table would not fit an embedding matrix anyway' })
  .default(8000);
const minFrequency = z.number().int().min(1, { message: 'minFrequency must be a whole number ≥ 1: the fewest occurrences a pair needs to be merged' })
  .default(2).describe('a pair seen fewer times than this is never merged, even if vocabSize is not reached');

export const CharTokenizerConfig = z.object({
  kind: z.literal('char'),
  // Off by default so that a char GPT's vocabulary is exactly the corpus's characters in sorted order,
  // the ids of nanoGPT's `stoi` (65 on tinyshakespeare); on for a char BERT, which needs [MASK].
  specials: z.boolean().default(false)
    .describe('append [PAD] [UNK] [CLS] [SEP] [MASK] after the characters (ids n … n+4); a char BERT needs them, a char GPT does not'),
}).strict();

export const BpeTokenizerConfig = z.object({
  kind: z.literal('bpe'),
  vocabSize: vocabSize(BPE_MIN_VOCAB, '5 special tokens + 256 byte symbols come before any merge')
    .describe('the vocabulary the trainer stops at: 5 specials + 256 bytes + merges; smaller if the corpus runs out of pairs seen minFrequency times'),
  minFrequency,
}).strict();

export const WordPieceTokenizerConfig = z.object({
  kind: z.literal('wordpiece'),
  vocabSize: vocabSize(SPECIAL_NAMES.length + 1, '5 special tokens + the corpus characters come first')
    .describe('the vocabulary the trainer stops at: 5 specials + every character and its ## form + merged pieces'),
  lowercase: z.boolean().default(true).describe("lowercase and strip accents before splitting (bert-base-uncased); false keeps case (bert-base-cased)"),
  minFrequency,
}).strict();

export const TokenizerConfig = z.discriminatedUnion('kind', [CharTokenizerConfig, BpeTokenizerConfig, WordPieceTokenizerConfig], {
  error: (issue) => (issue.code === 'invalid_union'
    ? "kind must be 'char', 'bpe' or 'wordpiece'"
    : undefined),
});
export type TokenizerConfigInput = z.input<typeof TokenizerConfig>;
export type TokenizerConfig = z.output<typeof TokenizerConfig>;
export type TokenizerKind = TokenizerConfig['kind'];

/** Ids of the special tokens; a char tokenizer without specials (or a foreign tokenizer.json) lacks some. */
export type SpecialIds = Partial<Record<SpecialName, number>>;
