/**
 * The on-disk cache of tokenized datasets: one file per key, so a second run with the same source,
 * cleaning, split and tokenizer starts at once. Layout (little-endian):
 *
 *   8 bytes  magic "WBTOKDS1"
 *   4 bytes  uint32 header length H
 *   H bytes  JSON header: key, arrays (name, dtype, length, offset), payload length and SHA-256, meta
 *   0–3      zero padding to a multiple of 4
 *   payload  the arrays' raw bytes, uint16 where every value fits, else int32
 *
 * Written atomically (temporary file in the same folder, fsync, rename, fsync the folder), so a reader
 * sees a whole file or none. A file that fails any check (magic, header, key, length, hash) is deleted
 * and rebuilt, never trusted: a cache must not be able to change what a model is trained on.
 */
import { createHash, randomBytes } from 'node:crypto';
import { stableStringify } from '../../common/stableJson';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const MAGIC = Buffer.from('WBTOKDS1', 'latin1');
const FORMAT = 'transformer-workbench/tokenized-dataset';
const VERSION = 1;
export const CACHE_EXT = '.wbtok';
/** Temporary files older than this are leftovers of a crashed writer, not a writer still at work. */
const STALE_TMP_MS = 60 * 60 * 1000;

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'transformer-workbench', 'datasets');
}

export function cacheKey(parts: unknown): string {
  return createHash('sha256').update(stableStringify(parts)).digest('hex').slice(0, 40);
}

export function cacheFile(dir: string, key: string): string {
  return path.join(dir, key + CACHE_EXT);
}

type Dtype = 'uint16' | 'int32';
interface ArrayEntry { name: string; dtype: Dtype; length: number; offset: number }
interface Header { format: string; version: number; key: string; arrays: ArrayEntry[]; payloadBytes: number; payloadSha256: string; meta: unknown }

export type CacheRead =
  | { status: 'hit'; file: string; meta: unknown; arrays: Record<string, Int32Array> }
  | { status: 'miss'; file: string }
  | { status: 'corrupt'; file: string; reason: string };

function fitsUint16(a: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] < 0 || a[i] > 0xffff) return false;
  return true;
}

/** Reads and checks the entry for `key`; deletes a corrupt one so the caller's rebuild replaces it. */
export async function readCacheEntry(dir: string, key: string): Promise<CacheRead> {
  const file = cacheFile(dir, key);
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch {
    return { status: 'miss', file };
  }
  const reason = checkEntry(buf, key);
  if (typeof reason === 'string') {
    await fs.rm(file, { force: true }).catch(() => undefined);
    return { status: 'corrupt', file, reason };
  }
  return { status: 'hit', file, ...reason };
}

function checkEntry(buf: Buffer, key: string): string | { meta: unknown; arrays: Record<string, Int32Array> } {
  if (os.endianness() !== 'LE') return 'cache files are little-endian; this machine is not';
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) return 'not a tokenized-dataset file (bad magic)';
  const h = buf.readUInt32LE(8);
  if (12 + h > buf.length) return 'truncated header';
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(12, 12 + h).toString('utf8')) as Header;
  } catch {
    return 'unreadable header';
  }
  if (header.format !== FORMAT || header.version !== VERSION) return `format ${header.format} v${header.version}, expected ${FORMAT} v${VERSION}`;
  if (header.key !== key) return 'header key does not match the file name';
  const start = 12 + h + ((4 - ((12 + h) % 4)) % 4);
  if (buf.length !== start + header.payloadBytes) return `length ${buf.length} bytes, expected ${start + header.payloadBytes} (truncated or padded)`;
  const payload = buf.subarray(start);
  if (createHash('sha256').update(payload).digest('hex') !== header.payloadSha256) return 'payload checksum mismatch';
  const arrays: Record<string, Int32Array> = {};
  for (const a of header.arrays) {
    const bytes = a.length * (a.dtype === 'uint16' ? 2 : 4);
    if (a.offset + bytes > payload.length) return `array ${a.name} runs past the payload`;
    // Copy into a fresh, aligned buffer: readFile's Buffer may sit at any offset of a shared pool.
    const ab = new ArrayBuffer(bytes);
    new Uint8Array(ab).set(payload.subarray(a.offset, a.offset + bytes));
    arrays[a.name] = a.dtype === 'uint16' ? Int32Array.from(new Uint16Array(ab)) : new Int32Array(ab);
  }
  return { meta: header.meta, arrays };
}

/** Writes the entry atomically and returns its path. Throws on I/O failure, leaving no temporary file behind. */
export async function writeCacheEntry(dir: string, key: string, meta: unknown, arrays: Record<string, Int32Array>): Promise<string> {
  if (os.endianness() !== 'LE') throw new Error('cache files are little-endian; this machine is not');
  await fs.mkdir(dir, { recursive: true });
  await sweepStaleTemps(dir);
  const entries: ArrayEntry[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    const dtype: Dtype = fitsUint16(a) ? 'uint16' : 'int32';
    const typed = dtype === 'uint16' ? Uint16Array.from(a) : a;
    const bytes = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
    entries.push({ name, dtype, length: a.length, offset });
    chunks.push(bytes);
    offset += bytes.length;
    const pad = (4 - (offset % 4)) % 4; // keeps every array's offset aligned for a future zero-copy reader
    if (pad) { chunks.push(Buffer.alloc(pad)); offset += pad; }
  }
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  const header: Header = { format: FORMAT, version: VERSION, key, arrays: entries, payloadBytes: offset, payloadSha256: hash.digest('hex'), meta };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const lenBytes = Buffer.alloc(4);
  lenBytes.writeUInt32LE(headerBytes.length);
  const pad = Buffer.alloc((4 - ((12 + headerBytes.length) % 4)) % 4);

  const final = cacheFile(dir, key);
  const tmp = path.join(dir, `${key}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, 'wx');
  try {
    for (const b of [MAGIC, lenBytes, headerBytes, pad, ...chunks]) await fh.write(b);
    await fh.sync();
    await fh.close();
    await fs.rename(tmp, final);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  // The rename is durable only once the folder is synced; not every platform can open a folder (Windows).
  const dh = await fs.open(dir, 'r').catch(() => null);
  if (dh) await dh.sync().catch(() => undefined).finally(() => dh.close());
  return final;
}

async function sweepStaleTemps(dir: string): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  for (const n of names) {
    if (!n.endsWith('.tmp')) continue;
    const p = path.join(dir, n);
    const st = await fs.stat(p).catch(() => null);
    if (st && now - st.mtimeMs > STALE_TMP_MS) await fs.rm(p, { force: true }).catch(() => undefined);
  }
}
