/**
 * Preparing a text file too large to hold: read in chunks, cut into documents, cleaned, split and encoded piece by
 * piece into token files (./tokenFile.ts) that training reads by position. What is held at once is one read chunk
 * (STREAM_CHUNK), MAX_PIECE_CHARS of one document and a block of tokens, whatever the file's size.
 *
 * Where it differs from the in-memory pipeline (dataset.ts), because that one needs every document at once:
 * - split 'tail' cuts the file, not each document, at (1 − validationFraction) of its bytes (at the start of the line
 *   holding that byte); split 'documents' sends a document to validation by its hash (split.ts documentSide), so the
 *   share is about validationFraction, not exactly it;
 * - exact and near-duplicate removal are off (their indexes grow with the corpus); the run log says so;
 * - a document longer than MAX_PIECE_CHARS is cleaned piece by piece, and the length filter judges only documents
 *   that fit in one piece.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DatasetConfig, DatasetSource, DocumentUnit } from '../../common/datasetConfig';
import { Pacer } from '../util/cooperative';
import { cacheKey } from './cache';
import { normalizeWhitespace, stripHtml } from './clean';
import { splitSentences } from './sentences';
import { decodeText, readFileChunks, refuse, resolveSourcePath, sourceIdentity } from './sources';
import { documentSide } from './split';
import { TokenFile, TokenFileWriter, bytesPerToken, dtypeFor, type TokenDtype } from './tokenFile';
import type { DatasetTokenizer } from './types';

/** A 'file' source larger than this is streamed when a run prepares it; smaller ones are read whole (faster). */
export const STREAM_ABOVE_BYTES = 64 * 2 ** 20;
/** The largest file streamed: 64 GiB, whose tokens (2 bytes each for a vocabulary up to 65,536) need ~128 GB of disk. */
export const MAX_STREAMED_FILE_BYTES = 64 * 2 ** 30;
/**
 * Bytes read at a time. Small enough that each chunk's text and the strings cut from it are cheap garbage: with 8 MiB
 * chunks V8 let its heap grow with the file (314 MiB peak at 16 MiB, 394 MiB at 64 MiB), collecting late.
 */
const STREAM_CHUNK = 1 << 20;
/** The longest stretch of one document held at once; a longer document goes on in further pieces. */
const MAX_PIECE_CHARS = 1 << 20;
/** Bump when cutting, cleaning, splitting or encoding a streamed file changes its tokens: old token files then miss. */
const STREAM_VERSION = 1;

type Side = 'train' | 'validation';

export interface StreamedFile { file: string; size: number }

/** The file a source streams from, or null when it is read whole: a 'file' source over `above` bytes. */
export async function streamedFileOf(source: DatasetSource, baseDir?: string, above = STREAM_ABOVE_BYTES): Promise<StreamedFile | null> {
  if (source.kind !== 'file') return null;
  const file = resolveSourcePath(source.path, baseDir);
  const st = await fs.stat(file).catch(() => null); // what cannot be stat'ed is refused, in words, by the in-memory reader
  return st?.isFile() && st.size > above ? { file, size: st.size } : null;
}

/** Where a trailing incomplete UTF-8 sequence starts (buf.length when there is none): a chunk is decoded up to there. */
function utf8End(buf: Buffer): number {
  let i = buf.length - 1;
  while (i >= 0 && buf.length - i < 4 && (buf[i] & 0xc0) === 0x80) i--;
  if (i < 0) return buf.length;
  const b = buf[i];
  const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  return buf.length - i < need ? i : buf.length;
}

/** The file's text in chunks, each on one side of the byte `cut` (Infinity: none), line ends as \n. */
async function* textSegments(f: StreamedFile, cut: number, signal: AbortSignal | undefined, onBytes: (bytes: number) => void): AsyncGenerator<{ text: string; side: Side }> {
  let carry: Buffer | null = null;
  let pos = 0; // file offset of carry's first byte (or of the next chunk)
  let pendingCr = false;
  const decode = (bytes: Buffer, side: Side, at: number) => {
    // a refusal's offsets count from the start of what was decoded: say where that is
    let t = (pendingCr ? '\r' : '') + decodeText(bytes, at === 0 ? f.file : `${f.file} (the part from byte ${at})`);
    pendingCr = t.endsWith('\r');
    if (pendingCr) t = t.slice(0, -1);
    return { text: t.replace(/\r\n?/g, '\n'), side };
  };
  const tooBig = `files over ${MAX_STREAMED_FILE_BYTES / 2 ** 30} GiB are not read; split it into several files`;
  for await (const chunk of readFileChunks(f.file, MAX_STREAMED_FILE_BYTES, tooBig, signal, STREAM_CHUNK)) {
    const bytes: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const end = utf8End(bytes);
    const at = cut - pos; // where the cut falls in these bytes
    if (at > 0 && at < end) {
      let c = at;
      while (c > 0 && (bytes[c] & 0xc0) === 0x80) c--; // never inside a character
      yield decode(bytes.subarray(0, c), 'train', pos);
      yield decode(bytes.subarray(c, end), 'validation', pos + c);
    } else {
      yield decode(bytes.subarray(0, end), pos + end <= cut ? 'train' : 'validation', pos);
    }
    carry = end < bytes.length ? Buffer.from(bytes.subarray(end)) : null;
    pos += end;
    onBytes(pos);
  }
  if (carry || pendingCr) yield decode(carry ?? Buffer.alloc(0), pos >= cut ? 'validation' : 'train', pos);
}

/** A stretch of one document on one side of the split. `last`: the document (or its part on this side) ends here; `whole`: it is all of it. */
interface Piece { side: Side; id: string; text: string; last: boolean; whole: boolean }

/** Cuts text into documents by unit (as sources.ts splitUnits does for a whole text), emitting them in pieces of at most MAX_PIECE_CHARS. */
class DocumentCutter {
  readonly out: Piece[] = [];
  private lineNo = 0;
  private partial = '';
  /** the line under way already went into the document (it was longer than MAX_PIECE_CHARS) */
  private continued = false;
  private doc: { id: string; side: Side; text: string; lines: number; pieces: number } | null = null;

  constructor(private readonly name: string, private readonly unit: DocumentUnit, private readonly sideOf: (id: string, lineSide: Side) => Side) {}

  push(text: string, side: Side): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) { this.lineNo++; this.line(l, side, true); }
    if (this.partial.length > MAX_PIECE_CHARS) { this.line(this.partial, side, false); this.partial = ''; }
  }

  end(side: Side): void {
    if (this.partial || this.continued) this.line(this.partial, side, false);
    this.partial = '';
    if (this.doc) this.emit(true);
  }

  private line(text: string, side: Side, complete: boolean): void {
    const continued = this.continued;
    this.continued = !complete;
    if (this.unit !== 'file' && !continued && !text.trim()) {
      if (this.doc) this.emit(true); // a blank line ends a paragraph; a blank line is no document
      return;
    }
    // the split's cut falls in this document: its part before the cut ends on the training side
    if (this.doc && this.doc.side !== this.sideOf(this.doc.id, side) && side === 'validation') {
      const id = this.doc.id;
      this.emit(true);
      this.doc = { id: `${id}#val`, side, text: '', lines: 0, pieces: 0 };
    }
    if (!this.doc) {
      // lines counted so far are complete ones: a line still under way is the next
      const id = this.unit === 'file' ? this.name : `${this.name}:${this.lineNo + (complete ? 0 : 1)}`;
      this.doc = { id, side: this.sideOf(id, side), text: '', lines: 0, pieces: 0 };
    }
    const d = this.doc;
    if (this.unit === 'paragraph' && d.lines > 0 && !continued) d.text += '\n';
    d.text += this.unit === 'file' && complete ? text + '\n' : text;
    d.lines++;
    if (this.unit === 'line' && complete) this.emit(true);
    else if (d.text.length > MAX_PIECE_CHARS) this.emit(false);
  }

  private emit(last: boolean): void {
    const d = this.doc!;
    this.out.push({ side: d.side, id: d.id, text: d.text, last, whole: last && d.pieces === 0 });
    d.pieces++;
    d.text = '';
    if (last) this.doc = null;
  }
}

export interface StreamCounts {
  bytesRead: number;
  documents: number;
  /** documents the length filter dropped */
  dropped: number;
  chars: Record<Side, number>;
}

interface StreamOptions {
  signal?: AbortSignal;
  /** bytes read so far, after each chunk */
  onBytes?: (bytes: number) => void;
}

/**
 * The file's cleaned documents in pieces, in order, each on its side of the split; `counts` fills as it goes.
 * Gives the event loop a turn every SLICE_MS and stops at a cancel (between pieces or chunks: well within a second).
 */
async function* streamPieces(f: StreamedFile, cfg: DatasetConfig, counts: StreamCounts, o: StreamOptions): AsyncGenerator<Piece> {
  if (cfg.source.kind !== 'file') throw new Error('streamPieces: only file sources stream');
  const unit = cfg.source.unit;
  if (cfg.split === 'documents' && cfg.validationFraction > 0 && unit === 'file') {
    refuse(`${f.file}: is one document (source unit 'file'), and the train/validation split keeps documents whole; set source.unit to 'paragraph' or 'line', or set split to 'tail'`, 'unit');
  }
  const cut = cfg.split === 'tail' && cfg.validationFraction > 0 ? Math.floor(f.size * (1 - cfg.validationFraction)) : Infinity;
  const sideOf = cfg.split === 'tail' ? (_id: string, lineSide: Side) => lineSide : (id: string) => documentSide(id, cfg.validationFraction, cfg.seed);
  const cutter = new DocumentCutter(path.basename(f.file), unit, sideOf);
  const pacer = new Pacer(`preparing ${f.file}`, o.signal);
  const c = cfg.cleaning;
  const minChars = Math.max(1, c.minChars);
  function* cleaned(pieces: Piece[]): Generator<Piece> {
    for (const p of pieces) {
      let text = c.stripHtml ? stripHtml(p.text) : p.text;
      if (c.normalizeWhitespace) text = normalizeWhitespace(text);
      if (p.last) counts.documents++;
      if (p.whole) {
        const n = text.trim() ? text.length : 0;
        if (n < minChars || (c.maxChars !== undefined && n > c.maxChars)) { counts.dropped++; continue; }
      }
      counts.chars[p.side] += text.length;
      yield { ...p, text };
    }
  }
  let last: Side = 'train';
  for await (const seg of textSegments(f, cut, o.signal, (b) => { counts.bytesRead = b; o.onBytes?.(b); })) {
    cutter.push(seg.text, seg.side);
    last = seg.side;
    for (const p of cleaned(cutter.out.splice(0))) {
      yield p;
      if (pacer.due()) await pacer.turn();
    }
  }
  cutter.end(last);
  yield* cleaned(cutter.out.splice(0));
}

const newCounts = (): StreamCounts => ({ bytesRead: 0, documents: 0, dropped: 0, chars: { train: 0, validation: 0 } });

/**
 * The sentences a tokenizer learns from, as the in-memory pipeline feeds them (pretrainData.ts tokenizerTrainingText):
 * the training side, or both sides ('all', for a char vocabulary); at most `maxChars` of them, after which the read stops.
 */
export async function* streamedSentences(f: StreamedFile, cfg: DatasetConfig, o: StreamOptions & { sides: 'train' | 'all'; maxChars: number }): AsyncGenerator<string> {
  let chars = 0;
  for await (const p of streamPieces(f, cfg, newCounts(), o)) {
    if (o.sides === 'train' && p.side !== 'train') continue;
    for (const s of splitSentences(p.text)) {
      yield s;
      chars += s.length;
    }
    if (chars >= o.maxChars) return;
  }
}

export interface StreamedDataset {
  train: TokenFile;
  validation: TokenFile;
  /** the folder holding the token files */
  dir: string;
  fromCache: boolean;
  counts: StreamCounts;
  close(): void;
}

interface TokenMeta { format: string; version: number; key: string; dtype: TokenDtype; tokens: Record<Side, number>; counts: StreamCounts }
const FORMAT = 'transformer-workbench/token-stream';

/**
 * The file's tokens, one stream per side, each document followed by `separator` when given (as dataset.ts tokenStream
 * joins documents), in token files under `cacheDir`, keyed like the in-memory cache (source identity, cleaning, split,
 * tokenizer). Token files already there for the key are used as they are; new ones are written to a temporary folder
 * and renamed into place, so a crash leaves no half-written set that a later run could take.
 */
export async function encodeStreamed(f: StreamedFile, cfg: DatasetConfig, tokenizer: DatasetTokenizer & { vocabSize: number }, o: StreamOptions & { cacheDir: string; baseDir?: string; separator?: number }): Promise<StreamedDataset> {
  const key = cacheKey({ stream: STREAM_VERSION, source: await sourceIdentity(cfg.source, o.baseDir), cleaning: cfg.cleaning, validationFraction: cfg.validationFraction, split: cfg.split, seed: cfg.seed, tokenizer: tokenizer.id, separator: o.separator ?? null });
  const dir = path.join(o.cacheDir, `${key}.tokens`);
  const open = (where: string, meta: TokenMeta, fromCache: boolean): StreamedDataset => {
    const train = new TokenFile(path.join(where, 'train.tokens'), meta.dtype, meta.tokens.train);
    const validation = new TokenFile(path.join(where, 'validation.tokens'), meta.dtype, meta.tokens.validation);
    return { train, validation, dir: where, fromCache, counts: meta.counts, close: () => { train.close(); validation.close(); } };
  };
  const found = await readMeta(dir, key);
  if (found) return open(dir, found, true);

  await fs.mkdir(o.cacheDir, { recursive: true });
  const tmp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.mkdir(tmp);
  const dtype = dtypeFor(tokenizer.vocabSize);
  const writers: Partial<Record<Side, TokenFileWriter>> = {};
  try {
    writers.train = await TokenFileWriter.create(path.join(tmp, 'train.tokens'), dtype);
    writers.validation = await TokenFileWriter.create(path.join(tmp, 'validation.tokens'), dtype);
    const counts = newCounts();
    for await (const p of streamPieces(f, cfg, counts, o)) {
      const w = writers[p.side]!;
      for (const s of splitSentences(p.text)) {
        w.push(tokenizer.encode(s));
        if (w.full()) await w.flush();
      }
      if (p.last && o.separator !== undefined) w.push(o.separator);
    }
    const meta: TokenMeta = { format: FORMAT, version: STREAM_VERSION, key, dtype, tokens: { train: writers.train.count, validation: writers.validation.count }, counts };
    await writers.train.close();
    await writers.validation.close();
    await fs.writeFile(path.join(tmp, 'meta.json'), JSON.stringify(meta));
    try {
      await fs.rename(tmp, dir);
    } catch (err) {
      // another run wrote the same key meanwhile: theirs is as good as ours
      if (!(await readMeta(dir, key))) throw err;
      await fs.rm(tmp, { recursive: true, force: true });
    }
    return open(dir, meta, false);
  } catch (err) {
    await Promise.all(Object.values(writers).map((w) => w.abandon()));
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/** The meta of complete token files for `key`, or null (missing, or not matching its files: then removed, to be written again). */
async function readMeta(dir: string, key: string): Promise<TokenMeta | null> {
  let meta: TokenMeta;
  try {
    meta = JSON.parse(await fs.readFile(path.join(dir, 'meta.json'), 'utf8')) as TokenMeta;
  } catch {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    return null;
  }
  const sizes = await Promise.all((['train', 'validation'] as const).map((s) => fs.stat(path.join(dir, `${s}.tokens`)).then((st) => st.size, () => -1)));
  const ok = meta.format === FORMAT && meta.version === STREAM_VERSION && meta.key === key
    && sizes[0] === meta.tokens.train * bytesPerToken(meta.dtype) && sizes[1] === meta.tokens.validation * bytesPerToken(meta.dtype);
  if (!ok) await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  return ok ? meta : null;
}
