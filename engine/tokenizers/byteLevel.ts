/**
 * GPT-2's byte level: text is cut into pieces by GPT-2's regex, each piece's UTF-8 bytes are spelled with
 * 256 printable characters (so merges and vocab entries are plain strings), and decoding reverses both.
 * This is what the `ByteLevel` pre-tokenizer and decoder of Hugging Face's tokenizer.json mean.
 */

/**
 * Unicode White_Space: what Oniguruma's `\s` (HF's regex engine) matches. JavaScript's `\s` differs
 * (it adds U+FEFF and lacks U+0085), so the class is spelled out to cut text exactly where HF does.
 */
export const WHITE_SPACE = '\\t-\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';

/** GPT-2's pre-tokenizer pattern, as in HF's ByteLevel pre-tokenizer, with `\s` made exact. */
export const GPT2_PATTERN = new RegExp(
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WHITE_SPACE}\\p{L}\\p{N}]+|[${WHITE_SPACE}]+(?![^${WHITE_SPACE}])|[${WHITE_SPACE}]+`,
  'gu',
);

/** GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others move to U+0100 onwards. */
function bytesToUnicode(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  return out;
}

/** byte → the character that spells it */
export const BYTE_TO_CHAR: readonly string[] = bytesToUnicode();
/** character → the byte it spells */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** The 256 byte characters in code point order: the order HF's trainer gives the initial alphabet ids. */
export const BYTE_ALPHABET: readonly string[] = [...BYTE_TO_CHAR].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));

const utf8 = new TextEncoder();

/** The UTF-8 bytes of a piece, spelled in byte characters. */
export function toByteLevel(piece: string): string {
  let ascii = true;
  for (let i = 0; i < piece.length; i++) if (piece.charCodeAt(i) > 0x7f) { ascii = false; break; }
  let s = '';
  if (ascii) for (let i = 0; i < piece.length; i++) s += BYTE_TO_CHAR[piece.charCodeAt(i)];
  else for (const b of utf8.encode(piece)) s += BYTE_TO_CHAR[b];
  return s;
}

/** Each piece of GPT-2's split, in order; `addPrefixSpace` prepends a space as HF's option does. */
export function* gpt2Pieces(text: string, addPrefixSpace = false): Generator<string> {
  if (addPrefixSpace && !text.startsWith(' ')) text = ' ' + text;
  const re = new RegExp(GPT2_PATTERN);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) yield m[0];
}

const utf8Lossy = new TextDecoder('utf-8', { fatal: false });

/** Concatenated byte-level tokens back to text; bytes that are not valid UTF-8 become U+FFFD (as HF's from_utf8_lossy). */
export function fromByteLevel(tokens: readonly string[]): string {
  const bytes: number[] = [];
  for (const t of tokens) {
    for (const c of t) {
      const b = CHAR_TO_BYTE.get(c);
      if (b !== undefined) bytes.push(b);
      else for (const x of utf8.encode(c)) bytes.push(x); // a character outside the byte alphabet (an added token's) stands for itself
    }
  }
  return utf8Lossy.decode(new Uint8Array(bytes));
}
