import type { Dirent } from 'node:fs';
import fsp from 'node:fs/promises';

/** A folder's entry names, or none when the folder does not exist (yet); other errors are thrown. */
export async function readdirIfExists(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** The same, with each entry's type. */
export async function readdirEntriesIfExists(dir: string): Promise<Dirent[]> {
  try {
    return await fsp.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
