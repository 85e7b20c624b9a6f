/**
 * dataset.upload: a text file the user picked or dropped in the page, written into the data/ folder beside
 * the saved experiment — browser mode's way to bring data into the workspace without a shell. The file
 * passes the same text check as any dataset file the engine reads (common/textCheck.ts), lands whole or
 * not at all (a temporary file renamed into place), and never replaces a different file unless asked.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { DATA_FOLDER, UPLOAD_MAX_BYTES, tooLargeMessage, type DataUploadParams, type DataUploadResult } from '../../common/dataUpload';
import { EngineError } from '../../common/errors';
import { readUtf8Text } from '../../common/textCheck';
import { writeFileAtomic } from '../../common/node/atomicWrite';
import type { ExperimentFiles } from './experimentFiles';

type Params = z.output<typeof DataUploadParams>;
type Result = z.output<typeof DataUploadResult>;

const refuse = (message: string, field = 'name') => new EngineError('INVALID_DATASET', message, [field]);

/** Strict base64 (what FileReader's data URLs and Buffer write): Buffer.from would skip anything else in silence. */
function decodeBase64(s: string, name: string): Buffer {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw refuse(`${name}: the file's content did not arrive as base64; add the file again`, 'contentBase64');
  return Buffer.from(s, 'base64');
}

async function sameBytes(file: string, bytes: Buffer): Promise<boolean> {
  const st = await fsp.stat(file);
  return st.size === bytes.length && (await fsp.readFile(file)).equals(bytes);
}

export async function uploadDataFile(files: ExperimentFiles, p: Params): Promise<Result> {
  const experiment = await files.resolvePath(p.experimentPath, ['experimentPath']);
  const isFile = await fsp.stat(experiment).then((s) => s.isFile(), () => false);
  if (!isFile) throw refuse(`${experiment}: no such experiment file; save the experiment first, so the data file can go into the ${DATA_FOLDER} folder beside it`, 'experimentPath');

  const bytes = decodeBase64(p.contentBase64, p.name);
  if (bytes.length > UPLOAD_MAX_BYTES) throw refuse(tooLargeMessage(p.name, bytes.length), 'contentBase64');
  if (bytes.length === 0) throw refuse(`${p.name}: is empty; add a file that holds text`, 'contentBase64');
  const text = readUtf8Text(bytes);
  if (!text.ok) throw refuse(`${p.name}: ${text.problem}`, 'contentBase64');

  const rel = `${DATA_FOLDER}/${p.name}`;
  // in browser mode a data/ folder (or a file in it) that links out of the workspace is refused here
  const target = await files.resolvePath(path.join(path.dirname(experiment), DATA_FOLDER, p.name), ['name']);
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const existing = await fsp.lstat(target).catch(() => null);
  if (existing?.isDirectory()) throw refuse(`${rel}: is a folder; rename the file you add`);
  if (existing && (await sameBytes(target, bytes))) return { path: rel, bytes: bytes.length, unchanged: true };
  if (existing && !p.overwrite) {
    throw new EngineError('BUSY', `${rel}: already exists with other content (${existing.size} bytes); rename the file you add, or replace the one there`, ['overwrite']);
  }
  try {
    await writeFileAtomic(target, bytes, { overwrite: p.overwrite });
  } catch (err) {
    // another writer took the name between the check and the write
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new EngineError('BUSY', `${rel}: was created meanwhile; add the file again to replace it`, ['overwrite']);
    throw refuse(`${rel}: cannot be written (${(err as Error).message})`);
  }
  return { path: rel, bytes: bytes.length, unchanged: false };
}
