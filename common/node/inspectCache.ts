/**
 * The inspect cache of a run folder, RUN/inspect/: the attention maps of one input at one checkpoint as
 * KEY.json (common/inspect.ts InspectMeta) and KEY.f32 (float32 little-endian [layer][head][query][key]).
 * The engine writes entries (KEY.f32 first, KEY.json last, both atomically: an entry without its .json is
 * not an entry); the host reads them, a head at a time. The key hashes the checkpoint's name and weights
 * (their SHA-256 from its manifest, so a checkpoint rewritten under the same name misses) and the input.
 *
 * Bounded: at most MAX_CACHE_ENTRIES entries and MAX_CACHE_BYTES of maps per run; past either, the least
 * recently used entries go (a read touches an entry).
 */
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { type CheckpointInfo, type InspectCheckpoints, type InspectInput, InspectMeta } from '../inspect';
import { CheckpointManifest, CheckpointName, CheckpointPointer } from '../runFolder';
import { formatIssues } from '../zodIssues';
import { isTempName, writeFileAtomic, writeJsonAtomic } from './atomicWrite';
import { readdirEntriesIfExists, readdirIfExists } from './readdirIfExists';
import { CHECKPOINTS_DIR, RunFileError } from './runFiles';

export const INSPECT_DIR = 'inspect';
export const MAX_CACHE_ENTRIES = 256;
export const MAX_CACHE_BYTES = 2 * 1024 ** 3;
/** A meta file is tokens, ids and [layer][head] statistics: far below this, which guards the read. */
export const MAX_META_BYTES = 64 * 1024 * 1024;
const META = '.json';
const MAPS = '.f32';
const MANIFEST = 'checkpoint.json';
const KEY_RE = /^([0-9a-f]{32})\.json$/;

export const inspectDirOf = (runDir: string): string => path.join(runDir, INSPECT_DIR);

/** A checkpoint's manifest, validated; a RunFileError naming the file when it is missing or damaged. */
async function readManifest(runDir: string, name: string): Promise<CheckpointManifest> {
  const file = path.join(runDir, CHECKPOINTS_DIR, name, MANIFEST);
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    throw new RunFileError(file, `cannot be read (${(e as Error).message}); pick another checkpoint`);
  }
  const r = CheckpointManifest.safeParse(raw);
  if (!r.success) throw new RunFileError(file, `does not match the checkpoint format: ${formatIssues(r.error)}; pick another checkpoint`);
  return r.data;
}

/** The cache key of `input` at checkpoint `name` of the run. */
export async function inspectKey(runDir: string, name: string, input: InspectInput): Promise<string> {
  const weights = (await readManifest(runDir, name)).files.model.sha256;
  return crypto.createHash('sha256').update(JSON.stringify([name, weights, input.text, input.pair ?? null])).digest('hex').slice(0, 32);
}

async function readPointer(runDir: string, which: 'last' | 'best'): Promise<string | null> {
  try {
    const r = CheckpointPointer.safeParse(JSON.parse(await fsp.readFile(path.join(runDir, CHECKPOINTS_DIR, `${which}.json`), 'utf8')));
    return r.success ? r.data.checkpoint : null;
  } catch {
    return null;
  }
}

/** The run's checkpoints whose manifests read (oldest first), and what last.json and best.json point at among them. */
export async function listInspectCheckpoints(runDir: string): Promise<InspectCheckpoints> {
  const names = (await readdirEntriesIfExists(path.join(runDir, CHECKPOINTS_DIR)))
    .filter((e) => e.isDirectory() && !isTempName(e.name) && CheckpointName.safeParse(e.name).success).map((e) => e.name);
  const checkpoints: CheckpointInfo[] = [];
  for (const name of names) {
    const m = await readManifest(runDir, name).catch(() => null);
    if (m) checkpoints.push({ name, step: m.step, valLoss: m.valLoss });
  }
  checkpoints.sort((a, b) => a.step - b.step || a.name.localeCompare(b.name));
  const known = (n: string | null) => (n && checkpoints.some((c) => c.name === n) ? n : null);
  return { checkpoints, last: known(await readPointer(runDir, 'last')) ?? checkpoints.at(-1)?.name ?? null, best: known(await readPointer(runDir, 'best')) };
}

const mapsBytes = (m: InspectMeta): number => m.layers * m.heads * m.T * m.T * 4;

/** Writes an entry (maps first, then its meta) and evicts what the bounds no longer hold. */
export async function writeInspectEntry(runDir: string, key: string, meta: InspectMeta, maps: Float32Array): Promise<void> {
  if (maps.length * 4 !== mapsBytes(meta)) throw new Error(`inspect cache: ${maps.length} numbers for ${meta.layers}×${meta.heads}×${meta.T}×${meta.T} maps`);
  const dir = inspectDirOf(runDir);
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, key + MAPS), new Uint8Array(maps.buffer, maps.byteOffset, maps.byteLength));
  await writeJsonAtomic(path.join(dir, key + META), meta);
  await evictInspectCache(runDir, key);
}

/** An entry's meta, or null when there is no such entry; a damaged one is a RunFileError. Reading marks it used. */
export async function readInspectMeta(runDir: string, key: string): Promise<InspectMeta | null> {
  const file = path.join(inspectDirOf(runDir), key + META);
  let text: string;
  try {
    const { size } = await fsp.stat(file);
    if (size > MAX_META_BYTES) throw new RunFileError(file, `is ${size} bytes, more than an inspect entry's ${MAX_META_BYTES}; delete it and compute again`);
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (e instanceof RunFileError) throw e;
    throw new RunFileError(file, `cannot be read (${(e as Error).message})`);
  }
  let r;
  try {
    r = InspectMeta.safeParse(JSON.parse(text));
  } catch (e) {
    throw new RunFileError(file, `is not valid JSON (${(e as Error).message}); delete it and compute again`);
  }
  if (!r.success) throw new RunFileError(file, `does not match the inspect format: ${formatIssues(r.error)}; delete it and compute again`);
  const maps = path.join(inspectDirOf(runDir), key + MAPS);
  const size = await fsp.stat(maps).then((s) => s.size, () => -1);
  if (size !== mapsBytes(r.data)) return null; // a maps file lost or cut short: compute again
  const now = new Date();
  await fsp.utimes(file, now, now).catch(() => undefined);
  return r.data;
}

/** Heads [layer][head] of an entry, read one at a time (each T×T floats) and handed to `each`. */
export async function readInspectHeads(runDir: string, key: string, meta: InspectMeta, each: (layer: number, head: number, map: Float32Array) => void, only?: { layer: number; head: number }): Promise<void> {
  const file = path.join(inspectDirOf(runDir), key + MAPS);
  const n = meta.T * meta.T;
  const fh = await fsp.open(file, 'r');
  try {
    const buf = new Float32Array(n);
    const bytes = new Uint8Array(buf.buffer);
    for (let l = 0; l < meta.layers; l++) {
      for (let h = 0; h < meta.heads; h++) {
        if (only && (only.layer !== l || only.head !== h)) continue;
        const { bytesRead } = await fh.read(bytes, 0, bytes.length, (l * meta.heads + h) * n * 4);
        if (bytesRead !== bytes.length) throw new RunFileError(file, `ends early at layer ${l} head ${h}; delete it and compute again`);
        each(l, h, buf);
      }
    }
  } finally {
    await fh.close();
  }
}

/**
 * Removes the least recently used entries past MAX_CACHE_ENTRIES or MAX_CACHE_BYTES, never `keep`, and
 * maps files whose meta is gone (an entry cut short by a kill).
 */
export async function evictInspectCache(runDir: string, keep?: string, limits = { entries: MAX_CACHE_ENTRIES, bytes: MAX_CACHE_BYTES }): Promise<string[]> {
  const dir = inspectDirOf(runDir);
  const names = await readdirIfExists(dir);
  const keys = new Set(names.map((n) => KEY_RE.exec(n)?.[1]).filter((k): k is string => k !== undefined));
  const entries: { key: string; used: number; bytes: number }[] = [];
  for (const key of keys) {
    const [m, f] = await Promise.all([fsp.stat(path.join(dir, key + META)).catch(() => null), fsp.stat(path.join(dir, key + MAPS)).catch(() => null)]);
    if (m) entries.push({ key, used: m.mtimeMs, bytes: f?.size ?? 0 });
  }
  entries.sort((a, b) => b.used - a.used || a.key.localeCompare(b.key));
  let bytes = 0;
  const removed: string[] = [];
  entries.forEach((e, i) => {
    bytes += e.bytes;
    if (e.key !== keep && (i >= limits.entries || bytes > limits.bytes)) removed.push(e.key);
  });
  const orphans = names.filter((n) => n.endsWith(MAPS) && !isTempName(n) && !keys.has(n.slice(0, -MAPS.length)));
  for (const key of removed) {
    await fsp.rm(path.join(dir, key + META), { force: true });
    await fsp.rm(path.join(dir, key + MAPS), { force: true });
  }
  for (const n of orphans) await fsp.rm(path.join(dir, n), { force: true });
  return removed;
}
