/**
 * Reading plain-text files, folders of them and JSON Lines into raw documents. Every refusal is an
 * INVALID_DATASET error whose message names the file and says why and what to do, because the person
 * reading it is looking at a dataset cell, not at a stack trace.
 */
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BUILT_IN_CORPORA, type CorpusName, type CorpusReading, type CorpusSource, type DatasetSource, type DocumentUnit } from '../../common/datasetConfig';
import { EngineError } from '../../common/errors';
import { readUtf8Text } from '../../common/textCheck';
import { loadBrown, brownIdentity, loadBrownText } from './brown';
import type { RawDocument } from './types';

/** V8 cannot hold a string much longer than 2^29 characters; refuse before trying rather than crash. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;

export function refuse(message: string, field?: string): never {
  throw new EngineError('INVALID_DATASET', message, field ? ['dataset', 'source', field] : undefined);
}

function describeFsError(file: string, err: unknown, kindHint: string): never {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') refuse(`${file}: no such ${kindHint}; check source.path`, 'path');
  if (code === 'EACCES' || code === 'EPERM') refuse(`${file}: permission denied; make the ${kindHint} readable by this user`, 'path');
  if (code === 'EISDIR') refuse(`${file}: is a folder, not a file; use source kind 'folder' for a folder of text files`, 'path');
  if (code === 'ENOTDIR') refuse(`${file}: is not a folder; use source kind 'file' or 'jsonl' for a single file`, 'path');
  refuse(`${file}: cannot be read (${err instanceof Error ? err.message : String(err)})`, 'path');
}

/** Bytes to text, refusing what is not text (common/textCheck.ts says what and why). */
export function decodeText(buf: Uint8Array, file: string): string {
  const r = readUtf8Text(buf);
  if (!r.ok) refuse(`${file}: ${r.problem}`, 'path');
  return r.text;
}

/** What a path is when it is not a regular file, in words. */
function kindOf(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Bytes read at a time by default: a cancel is seen between chunks, well within a second. */
const READ_CHUNK = 8 * 1024 * 1024;

/**
 * A file's bytes in chunks of `chunkBytes`, bounded: only a regular file is read (a device such as /dev/zero, a FIFO
 * or a socket would never end, or block), and at most `limitBytes` of it, whatever its size claims (/proc files
 * claim 0); a cancel stops the read between chunks. The file is opened without blocking and checked again through
 * its descriptor, so a path swapped for a FIFO after the first check cannot hang the read. `tooBig` says what to do
 * about a file over the limit. Each chunk is a fresh buffer the caller may keep.
 */
export async function* readFileChunks(file: string, limitBytes: number, tooBig: string, signal?: AbortSignal, chunkBytes = READ_CHUNK): AsyncGenerator<Buffer> {
  const refuseSize = (bytes: string) => refuse(`${file}: is ${bytes}; ${tooBig}`, 'path');
  const check = (st: import('node:fs').Stats) => {
    if (st.isDirectory()) refuse(`${file}: is a folder, not a file; use source kind 'folder' for a folder of text files`, 'path');
    if (!st.isFile()) refuse(`${file}: is ${kindOf(st)}, not a regular file, and is not read; point source.path at a text file`, 'path');
    if (st.size > limitBytes) refuseSize(`${(st.size / 2 ** 20).toFixed(0)} MiB`);
  };
  try {
    check(await fs.stat(file));
  } catch (err) {
    if (err instanceof EngineError) throw err;
    describeFsError(file, err, 'file');
  }
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    describeFsError(file, err, 'file');
  }
  try {
    check(await fh.stat());
    let total = 0;
    for (;;) {
      if (signal?.aborted) throw new EngineError('JOB_CANCELLED', `reading ${file} was cancelled`);
      const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, limitBytes + 1 - total));
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(chunk, 0, chunk.length, null));
      } catch (err) {
        describeFsError(file, err, 'file');
      }
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limitBytes) refuseSize(`over ${(limitBytes / 2 ** 20).toFixed(0)} MiB (it grew while it was read, or its size is not known in advance)`);
      yield chunk.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** A text file read whole, up to MAX_FILE_BYTES (readFileChunks says how). */
export async function readTextFile(file: string, signal?: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of readFileChunks(file, MAX_FILE_BYTES, `a text file is read whole, up to ${MAX_FILE_BYTES / 2 ** 20} MiB: split it into several files and use source kind 'folder'`, signal)) chunks.push(chunk);
  return decodeText(Buffer.concat(chunks), file);
}

/** Cuts one file's text into documents. Ids say where each starts ("notes.txt:12" is line 12), so a report's examples can be found. */
export function splitUnits(text: string, name: string, file: string, unit: DocumentUnit): RawDocument[] {
  const t = text.replace(/\r\n?/g, '\n');
  if (unit === 'file') return [{ id: name, file, text: t }];
  const docs: RawDocument[] = [];
  const lines = t.split('\n');
  if (unit === 'line') {
    lines.forEach((line, i) => {
      if (line.trim()) docs.push({ id: `${name}:${i + 1}`, file, text: line });
    });
    return docs;
  }
  let start = -1;
  let buf: string[] = [];
  const flush = () => {
    if (buf.length) docs.push({ id: `${name}:${start + 1}`, file, text: buf.join('\n') });
    buf = [];
  };
  lines.forEach((line, i) => {
    if (!line.trim()) { flush(); return; }
    if (!buf.length) start = i;
    buf.push(line);
  });
  flush();
  return docs;
}

function normalizeExtensions(exts: string[]): string[] {
  return exts.map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase());
}

/**
 * The files a folder source reads: recursive, sorted (so the order, and so dedupe and ids, repeat), hidden entries
 * skipped. `brokenLinks`: symbolic links that loop or lead nowhere, which a refusal must mention, since they look
 * like files in a listing.
 */
export async function listFolder(root: string, extensions: string[]): Promise<{ files: string[]; skipped: string[]; brokenLinks: string[] }> {
  const exts = normalizeExtensions(extensions);
  const files: string[] = [];
  const skipped: string[] = [];
  const brokenLinks: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      describeFsError(dir, err, 'folder');
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // .git, .DS_Store and editors' swap files are not the user's text
      const full = path.join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const st = await fs.stat(full).catch(() => null);
        if (!st) brokenLinks.push(full);
        isDir = false; // a linked folder could loop; linked files are read
        isFile = !!st?.isFile();
      }
      if (isDir) await walk(full);
      else if (isFile) (exts.some((x) => e.name.toLowerCase().endsWith(x)) ? files : skipped).push(full);
    }
  }
  await walk(root);
  files.sort();
  skipped.sort();
  brokenLinks.sort();
  return { files, skipped, brokenLinks };
}

async function statOrRefuse(p: string, kindHint: 'file' | 'folder') {
  try {
    return await fs.stat(p);
  } catch (err) {
    describeFsError(p, err, kindHint);
  }
}

async function readFolder(root: string, extensions: string[], unit: DocumentUnit, signal?: AbortSignal): Promise<RawDocument[]> {
  const st = await statOrRefuse(root, 'folder');
  if (!st.isDirectory()) refuse(`${root}: is a file, not a folder; use source kind 'file' (or 'jsonl')`, 'path');
  const { files, skipped, brokenLinks } = await listFolder(root, extensions);
  if (!files.length) {
    const some = (list: string[]) => list.slice(0, 3).map((f) => path.relative(root, f)).join(', ');
    const others = skipped.length ? ` (it holds ${skipped.length} other files, e.g. ${some(skipped)})` : '';
    const broken = brokenLinks.length ? `; ${brokenLinks.length} symbolic links in it loop or lead nowhere (e.g. ${some(brokenLinks)}) and were not read` : '';
    refuse(`${root}: has no files ending in ${normalizeExtensions(extensions).join(', ')}${others}${broken}; add text files or set source.extensions`, 'extensions');
  }
  const docs: RawDocument[] = [];
  for (const f of files) {
    const rel = path.relative(root, f).split(path.sep).join('/');
    docs.push(...splitUnits(await readTextFile(f, signal), rel, f, unit));
  }
  return docs;
}

async function readJsonl(file: string, textField: string, labelField: string | undefined, signal?: AbortSignal): Promise<RawDocument[]> {
  const text = await readTextFile(file, signal);
  const name = path.basename(file);
  const docs: RawDocument[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const where = `${file}:${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      refuse(`${where}: not valid JSON (${(err as Error).message}); each line of a JSON Lines file must be one JSON object`, 'path');
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      refuse(`${where}: is ${Array.isArray(obj) ? 'an array' : typeof obj}, not a JSON object; each line must be an object with a "${textField}" field`, 'path');
    }
    const rec = obj as Record<string, unknown>;
    const value = rec[textField];
    if (typeof value !== 'string') {
      const keys = Object.keys(rec).slice(0, 8).join(', ') || 'none';
      refuse(value === undefined
        ? `${where}: has no field "${textField}" (its fields: ${keys}); set source.textField to the field that holds the text`
        : `${where}: field "${textField}" is ${typeof value}, not a string; set source.textField to the field that holds the text`, 'textField');
    }
    let label: string | undefined;
    if (labelField !== undefined) {
      const l = rec[labelField];
      if (typeof l !== 'string' && typeof l !== 'number' && typeof l !== 'boolean') {
        refuse(`${where}: has no string or number field "${labelField}" (source.labelField); give every line a label or remove labelField`, 'labelField');
      }
      label = String(l);
    }
    docs.push({ id: `${name}:${i + 1}`, file, text: value, ...(label !== undefined ? { label } : {}) });
  }
  return docs;
}

export function resolveSourcePath(p: string, baseDir: string | undefined): string {
  return path.resolve(baseDir ?? process.cwd(), p);
}

/** How each built-in corpus is read: a corpus named in common/ without a reader here does not compile. */
const CORPUS_READERS: Record<CorpusName, {
  documents(genres?: string[]): Promise<RawDocument[]>;
  text(genres?: string[]): Promise<RawDocument>;
  identity(genres: string[] | undefined, as: CorpusReading): Promise<unknown>;
}> = {
  brown: { documents: loadBrown, text: loadBrownText, identity: brownIdentity },
};

/** A built-in corpus in words: "Brown corpus (humor, news), as one running text". */
export function describeCorpus(source: CorpusSource): string {
  const genres = source.genres ? ` (${source.genres.join(', ')})` : '';
  return `${BUILT_IN_CORPORA[source.corpus].title}${genres}${source.as === 'text' ? ', as one running text' : ''}`;
}

/** A one-line description of the source for stats and messages. */
export function describeSource(source: DatasetSource, baseDir?: string): string {
  if (source.kind === 'corpus') return describeCorpus(source);
  return resolveSourcePath(source.path, baseDir);
}

/** Reads every document of a source, in a fixed order; a cancel stops a file's read between chunks. */
export async function readSource(source: DatasetSource, baseDir?: string, signal?: AbortSignal): Promise<RawDocument[]> {
  switch (source.kind) {
    case 'corpus': {
      const reader = CORPUS_READERS[source.corpus];
      return source.as === 'text' ? [await reader.text(source.genres)] : reader.documents(source.genres);
    }
    case 'file': {
      const file = resolveSourcePath(source.path, baseDir);
      return splitUnits(await readTextFile(file, signal), path.basename(file), file, source.unit);
    }
    case 'folder':
      return readFolder(resolveSourcePath(source.path, baseDir), source.extensions, source.unit, signal);
    case 'jsonl':
      return readJsonl(resolveSourcePath(source.path, baseDir), source.textField, source.labelField, signal);
  }
}

/**
 * What identifies a source's content without reading it: paths with sizes and modification times (a
 * content hash would mean reading everything, which the cache exists to avoid). Part of the cache key.
 */
export async function sourceIdentity(source: DatasetSource, baseDir?: string): Promise<unknown> {
  const fileId = async (f: string) => {
    const st = await statOrRefuse(f, 'file');
    if (st.isDirectory()) refuse(`${f}: is a folder, not a file; use source kind 'folder' for a folder of text files`, 'path');
    return { size: st.size, mtimeMs: st.mtimeMs };
  };
  switch (source.kind) {
    case 'corpus':
      return CORPUS_READERS[source.corpus].identity(source.genres, source.as);
    case 'file':
    case 'jsonl': {
      const file = resolveSourcePath(source.path, baseDir);
      return { ...source, path: file, ...(await fileId(file)) };
    }
    case 'folder': {
      const root = resolveSourcePath(source.path, baseDir);
      const st = await statOrRefuse(root, 'folder');
      if (!st.isDirectory()) refuse(`${root}: is a file, not a folder; use source kind 'file' (or 'jsonl')`, 'path');
      const { files } = await listFolder(root, source.extensions);
      const entries = [];
      for (const f of files) entries.push([path.relative(root, f), ...Object.values(await fileId(f))]);
      return { ...source, path: root, files: entries };
    }
  }
}
