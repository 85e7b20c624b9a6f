/**
 * Atomic file replacement for the host's own files (experiment documents, the recent list): the bytes go
 * to a temporary file in the same folder, are fsynced, renamed over the target, and the folder is fsynced,
 * so a crash at any moment leaves either the old file or the new one, never half of each. (The engine has
 * its own writer in engine/runs/; electron/ may not import engine code.)
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Temporary files are hidden and named after their target, so a leftover one is recognisable. */
export function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // some file systems cannot fsync a directory; the rename is still atomic there
  } finally {
    await fh?.close();
  }
}

/**
 * Replaces `file` with `data` atomically; its mode is kept when it exists. With `overwrite: false` an
 * existing file is never replaced: the temporary is linked to the name (which fails with EEXIST when it is
 * taken) rather than renamed over it.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, { overwrite = true }: { overwrite?: boolean } = {}): Promise<void> {
  const tmp = tempNameFor(file);
  let mode = 0o644;
  try {
    mode = (await fsp.stat(file)).mode & 0o777;
  } catch { /* a new file */ }
  const fh = await fsp.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    if (overwrite) await fsp.rename(tmp, file);
    else await linkNew(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(file));
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

export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
