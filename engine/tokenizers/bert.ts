/**
 * BERT's text handling as Hugging Face's `BertNormalizer` and `BertPreTokenizer` define it, so that a
 * WordPiece tokenizer trained here splits text exactly as `tokenizers` (Rust) and transformers do.
 */
import { WHITE_SPACE } from './byteLevel';

export interface BertNormalizerOptions {
  /** drop control characters, NUL and U+FFFD; every whitespace character becomes a space */
  cleanText: boolean;
  /** surround CJK ideographs with spaces so each becomes a word of its own */
  handleChineseChars: boolean;
  /** NFD, then drop non-spacing marks; HF's `null` means "as lowercase" */
  stripAccents: boolean | null;
  lowercase: boolean;
}

// Rust's is_control for BERT: any "Other" category (Cc, Cf, Cs, Co, Cn) except tab, newline, return.
const CONTROL = /[\0\uFFFD]|(?![\t\n\r])\p{C}/gu;
const WHITE = new RegExp(`[${WHITE_SPACE}]`, 'gu');
const CJK = /[\u4E00-\u9FFF\u3400-\u4DBF\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B920}-\u{2CEAF}\uF900-\uFAFF\u{2F800}-\u{2FA1F}]/gu;
const NONSPACING_MARK = /\p{Mn}/gu;

export function bertNormalize(text: string, o: BertNormalizerOptions): string {
  if (o.cleanText) text = text.replace(CONTROL, '').replace(WHITE, ' ');
  if (o.handleChineseChars) text = text.replace(CJK, ' $& ');
  if (o.stripAccents ?? o.lowercase) text = text.normalize('NFD').replace(NONSPACING_MARK, '');
  if (o.lowercase) {
    // HF lowercases character by character; String.toLowerCase would turn a word-final Σ into ς.
    if (text.includes('Σ')) text = text.replaceAll('Σ', 'σ');
    text = text.toLowerCase();
  }
  return text;
}

/** Whitespace separates words and is dropped; each punctuation character (ASCII or Unicode P*) is a word. */
const BERT_WORD = new RegExp(`[^${WHITE_SPACE}!-\\/:-@\\[-\`{-~\\p{P}]+|[!-\\/:-@\\[-\`{-~\\p{P}]`, 'gu');

export function* bertWords(text: string): Generator<string> {
  const re = new RegExp(BERT_WORD);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) yield m[0];
}
