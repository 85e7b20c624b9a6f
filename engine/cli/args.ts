/** What every command of the command line shares for its arguments: the usage error and the checks on flag values. */
import fs from 'node:fs';
import { MAX_INPUT_TEXT_BYTES } from '../../common/attentionMaps';
import { BackendRequest } from '../../common/backends';

/** Bad arguments: the command line prints the message and the usage, and exits 2. */
export class UsageError extends Error {}

export function usage(message: string): never {
  throw new UsageError(message);
}

export function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  // decimal digits only: Number() would also take '0x3', '1e2' and ' 3'
  const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) usage(`${flag} must be a whole number ≥ 1, not '${v}'`);
  return n;
}

/** A whole number ≥ 0 (a seed, a top-k where 0 means all). */
export function wholeNumber(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) usage(`${flag} must be a whole number ≥ 0, not '${v}'`);
  return n;
}

/** A decimal number in [min, max]. */
export function numberIn(flag: string, v: string | undefined, min: number, max: number, minOpen = false): number | undefined {
  if (v === undefined) return undefined;
  const n = /^[0-9]*\.?[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!(minOpen ? n > min : n >= min) || !(n <= max)) usage(`${flag} must be a number ${minOpen ? '>' : '≥'} ${min} and ≤ ${max}, not '${v}'`);
  return n;
}

/** `--text TEXT` or `--text-file F` (exactly one), at most MAX_INPUT_TEXT_BYTES either way. */
export function textInput(flag: string, text: string | undefined, file: string | undefined): string {
  const limit = `${MAX_INPUT_TEXT_BYTES / 2 ** 20} MiB`;
  if ((text === undefined) === (file === undefined)) usage(`give the input as ${flag} TEXT or --text-file FILE (one of them)`);
  if (text !== undefined) {
    if (Buffer.byteLength(text) > MAX_INPUT_TEXT_BYTES) usage(`${flag} is longer than ${limit}; give a shorter text`);
    return text;
  }
  let fd: number;
  try {
    fd = fs.openSync(file!, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    return usage(`--text-file ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) usage(`--text-file ${file}: is not a regular file; give a text file`);
    if (st.size > MAX_INPUT_TEXT_BYTES) usage(`--text-file ${file}: is ${st.size} bytes, more than ${limit}; give a shorter text`);
    const buf = Buffer.alloc(MAX_INPUT_TEXT_BYTES + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (n > MAX_INPUT_TEXT_BYTES) usage(`--text-file ${file}: grew past ${limit} while it was read; give a shorter text`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export function backendFlag(v: string | undefined): BackendRequest | undefined {
  if (v === undefined) return undefined;
  const r = BackendRequest.safeParse(v);
  if (!r.success) usage(`--backend must be one of auto, node-gpu, node, wasm, cpu; not '${v}'`);
  return r.data;
}
