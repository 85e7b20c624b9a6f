/**
 * Writes that a crash cannot tear, for the engine (run folders) and the host (experiment files) alike: the bytes go to a temporary file in the same folder (a rename is only
 * atomic within one file system), the file is fsynced, renamed over the target, and the folder is fsynced
 * so that the rename itself survives a power cut. A reader therefore sees the old file or the new one,
 * never half of either. A crash between the steps leaves only a temporary file, which
 * removeStaleTemps() deletes the next time the folder is opened.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { readdirIfExists } from './readdirIfExists';
import { processAlive } from './processAlive';

/** Temporary names start with a dot and carry this marker, so no listing mistakes them for the real thing. */
export const TEMP_MARKER = '.tmp-';

let counter = 0;

/** A fresh temporary name beside `target`: hidden, unique per process and call. */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  counter += 1;
  return path.join(dir, `.${base}${TEMP_MARKER}${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`);
}

/**
 * Deletes the temporaries of `target` that a writer killed mid-write left beside it (a crash between the
 * write and the rename), returning their names. Safe where other processes write the same file: only the
 * temporaries of processes that are gone are touched (pids are of this machine; a shared folder across
 * machines could hold another machine's, which is why removeStaleTemps, not this, serves run folders
 * that have one writer by their lock).
 */
export async function removeDeadWritersTemps(target: string): Promise<string[]> {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}${TEMP_MARKER}`;
  const dead = (await readdirIfExists(dir)).filter((n) => {
    const pid = n.startsWith(prefix) ? /^(\d+)-/.exec(n.slice(prefix.length))?.[1] : undefined; // tempPathFor's PID-COUNTER-RANDOM
    return pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid));
  });
  for (const name of dead) await fsp.rm(path.join(dir, name), { recursive: true, force: true });
  return dead;
}

/** Whether a folder entry is one of our temporaries (a file or a folder). */
export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARKER);
}

// Windows and some network file systems refuse to open or fsync a folder; there the rename is as durable
// as the platform makes it, and that is the best anyone can do.
function ignorableDirSyncError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EISDIR' || code === 'EPERM' || code === 'EACCES' || code === 'EINVAL' || code === 'ENOTSUP';
}

/** fsync a folder, so that entries created, renamed or removed in it are on disk. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if (!ignorableDirSyncError(e)) throw e;
  } finally {
    await fh?.close();
  }
}

export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    if (!ignorableDirSyncError(e)) throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes `data` to a new file and fsyncs it (not its folder); the file must not exist. */
export async function writeAndSync(file: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const fh = await fsp.open(file, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The permission bits of an existing file, so a replaced file keeps them (a user's 0600 stays 0600). */
async function modeOf(file: string): Promise<number | undefined> {
  try {
    return (await fsp.stat(file)).mode & 0o777;
  } catch {
    return undefined; // a new file
  }
}

/**
 * Replaces `target` with `data` atomically (see the top of this file); an existing file's mode is kept.
 * With `overwrite: false` an existing file is never replaced: the temporary is linked to the name, which
 * fails with EEXIST when it is taken, rather than renamed over it.
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string, { overwrite = true }: { overwrite?: boolean } = {}): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    await writeAndSync(tmp, data, await modeOf(target));
    if (overwrite) await fsp.rename(tmp, target);
    else await linkNew(tmp, target);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await fsyncDir(path.dirname(target));
}

/** `tmp` under the name `file` only if that name is free; file systems without hard links check, then rename. */
async function linkNew(tmp: string, file: string): Promise<void> {
  try {
    await fsp.link(tmp, file);
    await fsp.rm(tmp, { force: true });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
  }
  const taken = await fsp.lstat(file).then(() => true, () => false);
  if (taken) throw Object.assign(new Error(`EEXIST: file already exists, ${file}`), { code: 'EEXIST' });
  await fsp.rename(tmp, file);
}

/** For exit paths that cannot wait (a last status write on the way out). */
export function writeFileAtomicSync(target: string, data: Uint8Array | string): void {
  const tmp = tempPathFor(target);
  try {
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDirSync(path.dirname(target));
}

/** Pretty JSON with a final newline: these files are read by people as well as programs. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, jsonText(value));
}

export function writeJsonAtomicSync(target: string, value: unknown): void {
  writeFileAtomicSync(target, jsonText(value));
}

/**
 * Deletes the temporaries a crash left in `dir` (files and folders), returning their names. Only call it
 * where no other process is writing into the same folder at the same time.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const names = await readdirIfExists(dir);
  const stale = names.filter(isTempName);
  for (const name of stale) await fsp.rm(path.join(dir, name), { recursive: true, force: true });
  if (stale.length) await fsyncDir(dir);
  return stale;
}
