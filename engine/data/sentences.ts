/**
 * A plain sentence splitter for BERT's next-sentence pairs. It cuts text into spans that concatenate back
 * to the text exactly (each span carries the white space before it), so causal-LM token streams built
 * from sentences equal the tokens of the whole document for tokenizers that split on white space.
 * Rules: a blank line always ends a sentence; so does . ! ? (plus closing quotes or brackets) followed by
 * white space and a capital, digit or opening quote, unless the word before is a known abbreviation or an
 * initial. Anything still longer than MAX_SENTENCE_CHARS (lists, code, unpunctuated text) is cut at line
 * breaks, then at spaces, so one pair can never be a whole book.
 */

export const MAX_SENTENCE_CHARS = 1000;

const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'vs', 'etc', 'inc', 'ltd', 'co', 'corp', 'no', 'nos',
  'gen', 'gov', 'sen', 'rep', 'col', 'lt', 'capt', 'sgt', 'maj', 'rev', 'hon', 'fig', 'figs', 'vol', 'pp', 'ch', 'ed',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'e.g', 'i.e', 'cf', 'al', 'approx',
  'u.s', 'u.k', 'a.m', 'p.m', 'ave', 'blvd', 'dept', 'univ', 'est', 'mssrs', 'messrs',
]);

const END = /[.!?]+["'”’)\]]*(?=\s)/g;
const NEXT_START = /^\s+["'“‘(\[]*[\p{Lu}\p{N}]/u;

function isAbbreviation(text: string, dotAt: number): boolean {
  let i = dotAt;
  while (i > 0 && !/\s/.test(text[i - 1])) i--;
  const word = text.slice(i, dotAt).replace(/^["'“‘(\[]+/, '').toLowerCase();
  return ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word);
}

/** Sentence starts within one paragraph-free stretch [from, to) of text. */
function proseBreaks(text: string, from: number, to: number, out: number[]): void {
  const part = text.slice(from, to);
  END.lastIndex = 0;
  for (let m = END.exec(part); m; m = END.exec(part)) {
    const end = m.index + m[0].length;
    if (!NEXT_START.test(part.slice(end, end + 8))) continue;
    // "Mr. Smith", "J. F. Kennedy": a lone period after an abbreviation or an initial ends no sentence.
    if (m[0][0] === '.' && !/^[.!?]{2}/.test(m[0]) && isAbbreviation(part, m.index)) continue;
    out.push(from + end);
  }
}

/** Cuts [start, end) into pieces of at most `max` characters, preferring line breaks, then spaces. */
function capLength(text: string, start: number, end: number, max: number, out: number[]): void {
  while (end - start > max) {
    const window = text.slice(start + 1, start + max);
    let cut = window.lastIndexOf('\n');
    if (cut < max / 4) cut = Math.max(cut, window.lastIndexOf(' '));
    const at = cut > 0 ? start + 1 + cut : start + max;
    out.push(at);
    start = at;
  }
}

/** Start offsets (ascending, first = 0) of the sentences of `text`. */
export function sentenceStarts(text: string, max = MAX_SENTENCE_CHARS): number[] {
  if (!text) return [];
  const breaks: number[] = [];
  const para = /\n[ \t]*\n\s*/g;
  let from = 0;
  for (let m = para.exec(text); m; m = para.exec(text)) {
    proseBreaks(text, from, m.index, breaks);
    breaks.push(m.index);
    from = m.index + m[0].length;
  }
  proseBreaks(text, from, text.length, breaks);
  const starts = [0, ...breaks.filter((b) => b > 0 && b < text.length)];
  const capped: number[] = [];
  starts.forEach((s, i) => {
    capped.push(s);
    capLength(text, s, i + 1 < starts.length ? starts[i + 1] : text.length, max, capped);
  });
  return [...new Set(capped)].sort((a, b) => a - b);
}

/** The sentences of `text` given their start offsets; they concatenate to `text`. */
export function cutAt(text: string, starts: number[]): string[] {
  return starts.map((s, i) => text.slice(s, i + 1 < starts.length ? starts[i + 1] : text.length));
}

export function splitSentences(text: string, max = MAX_SENTENCE_CHARS): string[] {
  return cutAt(text, sentenceStarts(text, max));
}
