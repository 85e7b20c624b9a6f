import { z } from 'zod';

/**
 * A data file a user adds through the page (browser mode has no shell to copy one with): where it goes,
 * what it may be called, how big it may be. The host enforces these (electron/host/dataFiles.ts); the page
 * checks the same rules first, so a file that would be refused is not sent.
 */

/** The folder beside the experiment file that added files go to. */
export const DATA_FOLDER = 'data';

/**
 * One WorkbenchApi message carries the file, base64-encoded (4/3 of its size), and browser mode's socket
 * takes messages of at most 16 MiB: 10 MiB leaves room. Larger corpora are copied into the workspace folder
 * with the file manager and named by path.
 */
export const UPLOAD_MAX_BYTES = 10 * 1024 * 1024;
/** base64 length of UPLOAD_MAX_BYTES bytes */
export const UPLOAD_MAX_BASE64 = Math.ceil(UPLOAD_MAX_BYTES / 3) * 4;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export function tooLargeMessage(name: string, bytes: number): string {
  return `${name}: is ${mib(bytes)}, over the ${mib(UPLOAD_MAX_BYTES)} a file added through the page may be; copy it into the workspace folder yourself and type its path in the dataset cell`;
}

/**
 * A plain file name: letters, digits, space and . _ - ( ) + , — no folder part, no leading dot (hidden
 * files, `..`), no trailing dot or space (Windows drops them). What the host writes is exactly this name.
 */
export const DataFileName = z.string().min(1).max(200).regex(
  /^[\p{L}\p{N}_](?:[\p{L}\p{N} ._()+,-]*[\p{L}\p{N}_()+-])?$/u,
  'not a plain file name: use letters, digits, spaces and . _ - ( ) + , with no folder part (no / or \\), not starting with a dot',
);

/**
 * The name a picked or dropped file is stored under: its last path part with every other character made a
 * '-', and what may not start or end a name dropped ('my data [1].txt' → 'my data -1-.txt', '.env' → 'env'). Null when nothing is left.
 */
export function safeDataFileName(name: string): string | null {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[^\p{L}\p{N} ._()+,-]/gu, '-').slice(0, 200).replace(/^[^\p{L}\p{N}_]+/u, '').replace(/[^\p{L}\p{N}_()+-]+$/u, '');
  return DataFileName.safeParse(cleaned).success ? cleaned : null;
}

export const DataUploadParams = z.object({
  /** the saved experiment the file belongs to: it goes to DATA_FOLDER beside it */
  experimentPath: z.string().min(1).max(4096),
  name: DataFileName,
  contentBase64: z.string().max(UPLOAD_MAX_BASE64 + 4, `the file is over the ${mib(UPLOAD_MAX_BYTES)} a file added through the page may be`),
  /** replace a different file of that name (the page asks first); without it such a file is never written over */
  overwrite: z.boolean().default(false),
}).strict();

export const DataUploadResult = z.object({
  /** where the file is, relative to the experiment's folder with '/' separators: what the dataset cell stores */
  path: z.string(),
  bytes: z.number().int().min(1),
  /** a file of that name with the same bytes was there already, and is used as it is */
  unchanged: z.boolean(),
}).strict();
