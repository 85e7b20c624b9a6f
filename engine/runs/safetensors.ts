/**
 * The safetensors format (Hugging Face's): an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the tensors' bytes back to back. The workbench writes F32 and
 * I32; it reads every float and signed-integer dtype of the format (a checkpoint from elsewhere is often F16
 * or BF16, with I64 buffers) into Float32Array / Int32Array.
 *
 * Files come from users and the internet, so a file is checked whole before any tensor is made: header
 * length capped, valid UTF-8 JSON, an object with no duplicate names, every entry exactly
 * {dtype, shape, data_offsets} with a known dtype, offsets contiguous from 0, in bounds, matching shape ×
 * dtype size, and no byte after the last tensor. Every refusal is an Error whose message says what is wrong.
 */

/** A file that breaks the format, in words; anything else thrown while reading one is a bug. */
export class SafetensorsError extends Error {}

/** What the workbench writes. */
export type WrittenDtype = 'F32' | 'I32' | 'I8';
export interface NamedTensor { name: string; dtype: WrittenDtype; shape: number[]; data: Float32Array | Int32Array | Int8Array }

/** Every dtype the format defines, with its size in bytes. */
const DTYPE_BYTES = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  F64: 8, I64: 8, U64: 8,
} as const;
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;
const isDtype = (d: unknown): d is SafetensorsDtype => typeof d === 'string' && Object.hasOwn(DTYPE_BYTES, d);
/** The dtypes read as float32 and as int32; the rest are valid files the workbench does not read. */
const AS_FLOAT: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];
const AS_INT: readonly SafetensorsDtype[] = ['I32', 'I64', 'I16', 'I8', 'U8', 'BOOL'];

/** The real library refuses headers above 100 MB; so do we, before allocating anything. */
export const MAX_HEADER_BYTES = 100_000_000;

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function bytesOf(data: Float32Array | Int32Array | Int8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

// ---------------------------------------------------------------------------------------------------
// writing

/** The header and the chunks of a safetensors file, in order, without copying the tensor data. */
export function safetensorsChunks(tensors: NamedTensor[], metadata: Record<string, string> = {}): Buffer[] {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) throw new Error(`safetensors: duplicate or reserved tensor name '${t.name}'`);
    if (numel(t.shape) !== t.data.length) throw new Error(`safetensors: tensor '${t.name}' has shape [${t.shape}] but ${t.data.length} values`);
    const end = offset + t.data.byteLength;
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // tensor data starts 8-byte aligned
  const head = Buffer.alloc(8 + Buffer.byteLength(json));
  head.writeBigUInt64LE(BigInt(head.length - 8), 0);
  head.write(json, 8, 'utf8');
  return [head, ...tensors.map((t) => bytesOf(t.data))];
}

export function encodeSafetensors(tensors: NamedTensor[], metadata?: Record<string, string>): Buffer {
  return Buffer.concat(safetensorsChunks(tensors, metadata));
}

// ---------------------------------------------------------------------------------------------------
// reading

export interface HeaderEntry { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }
export interface SafetensorsHeader {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  /** where the tensor data starts in the file */
  dataStart: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * What JSON.parse lets through and a safetensors header must not hold: a name twice in one object
 * (JSON.parse keeps the last silently, and a file two readers read differently is a file to refuse), a
 * value other than a string, a non-negative integer, an object or a list (`4.0`, `-1`, `1e3`, `true`,
 * `null`), or anything but space padding after the closing brace. `text` is known to be valid JSON, so
 * only strings and nesting need tracking. Returns the problem in words, or null.
 */
function headerSyntaxProblem(text: string): string | null {
  const objects: (Set<string> | null)[] = []; // the names seen in each open object; null for a list
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const names = objects[objects.length - 1];
      if (expectName && names) {
        const name = JSON.parse(text.slice(start, i + 1)) as string;
        if (names.has(name)) return `names '${name}' twice in one object of its header`;
        names.add(name);
      }
      expectName = false;
    } else if (c === '{' || c === '[') {
      objects.push(c === '{' ? new Set() : null);
      expectName = c === '{';
    } else if (c === '}' || c === ']') {
      objects.pop();
      if (objects.length === 0 && text.slice(i + 1).replace(/ +$/, '') !== '') return 'has something other than space padding after its header\'s closing brace';
    } else if (c === ',') {
      expectName = objects[objects.length - 1] instanceof Set;
    } else if (!/[\s:0-9]/.test(c)) {
      return `has '${c}' outside a string in its header; a safetensors header holds strings, non-negative integers, objects and lists only`;
    }
  }
  return null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the header of a whole file (`buf`) against the rules above and returns its entries in data order. */
export function parseSafetensorsHeader(buf: Uint8Array): SafetensorsHeader {
  if (buf.length < 8) throw new SafetensorsError(`is ${buf.length} bytes, shorter than the 8-byte header length`);
  const n = Buffer.from(buf.buffer, buf.byteOffset, 8).readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`declares a ${n}-byte header, over the format's limit of ${MAX_HEADER_BYTES} bytes`);
  if (n > BigInt(buf.length - 8)) throw new SafetensorsError(`declares a ${n}-byte header but the file has ${buf.length} bytes`);
  const dataStart = 8 + Number(n);
  let text: string;
  try {
    text = utf8.decode(buf.subarray(8, dataStart));
  } catch {
    throw new SafetensorsError('has a header that is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw new SafetensorsError('has a header that does not start with \'{\'');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`has a header that is not JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) throw new SafetensorsError('has a header that is not a JSON object');
  const problem = headerSyntaxProblem(text);
  if (problem) throw new SafetensorsError(problem);

  let metadata: Record<string, string> = {};
  if (Object.hasOwn(header, '__metadata__')) {
    const m = header.__metadata__;
    if (!isPlainObject(m) || !Object.values(m).every((v) => typeof v === 'string')) throw new SafetensorsError('has a __metadata__ that is not an object of strings');
    metadata = m as Record<string, string>;
  }
  const entries: HeaderEntry[] = [];
  for (const name of Object.keys(header)) {
    if (name === '__metadata__') continue;
    const e = header[name];
    if (!isPlainObject(e)) throw new SafetensorsError(`tensor '${name}' has an entry that is not an object`);
    const extra = Object.keys(e).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
    if (extra.length) throw new SafetensorsError(`tensor '${name}' has unknown fields ${extra.join(', ')}; an entry holds dtype, shape and data_offsets`);
    if (!isDtype(e.dtype)) throw new SafetensorsError(`tensor '${name}' has dtype ${JSON.stringify(e.dtype)}, not one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
      throw new SafetensorsError(`tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const bytes = numel(shape) * DTYPE_BYTES[e.dtype];
    if (!Number.isSafeInteger(bytes) || off[1] - off[0] !== bytes) {
      throw new SafetensorsError(`tensor '${name}' of shape [${shape}] and dtype ${e.dtype} needs ${bytes} bytes, its offsets give ${off[1] - off[0]}`);
    }
    entries.push({ name, dtype: e.dtype, shape: shape as number[], begin: off[0] as number, end: off[1] as number });
  }
  entries.sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected) throw new SafetensorsError(`tensor '${e.name}' starts at byte ${e.begin} of the data, expected ${expected} (the data has holes or overlaps)`);
    expected = e.end;
  }
  const dataLen = buf.length - dataStart;
  if (expected !== dataLen) throw new SafetensorsError(`has ${dataLen} bytes of tensor data but its header accounts for ${expected} (truncated or padded)`);
  return { entries, metadata, dataStart };
}

/** One tensor's bytes as float32 or int32 values (a copy: aligned, and not tied to the file's buffer). */
function convert(bytes: Uint8Array, e: HeaderEntry): Float32Array | Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = numel(e.shape);
  switch (e.dtype) {
    case 'F32': { const out = new Float32Array(n); new Uint8Array(out.buffer).set(bytes); return out; }
    case 'I32': { const out = new Int32Array(n); new Uint8Array(out.buffer).set(bytes); return out; }
    case 'F64': return Float32Array.from({ length: n }, (_, i) => view.getFloat64(8 * i, true));
    case 'F16': return Float32Array.from({ length: n }, (_, i) => halfToFloat(view.getUint16(2 * i, true)));
    case 'BF16': { const out = new Float32Array(n); const u = new Uint32Array(out.buffer); for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16; return out; }
    case 'I16': return Int32Array.from({ length: n }, (_, i) => view.getInt16(2 * i, true));
    case 'I8': return Int32Array.from({ length: n }, (_, i) => view.getInt8(i));
    case 'U8': case 'BOOL': return Int32Array.from(bytes);
    case 'I64': return Int32Array.from({ length: n }, (_, i) => {
      const v = view.getBigInt64(8 * i, true);
      if (v > 0x7fffffffn || v < -0x80000000n) throw new SafetensorsError(`tensor '${e.name}' holds ${v} at index ${i}, outside the int32 range the workbench reads`);
      return Number(v);
    });
    default: throw new SafetensorsError(`tensor '${e.name}' has dtype ${e.dtype}, which the workbench does not read (it reads ${[...AS_FLOAT, ...AS_INT].join(', ')})`);
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export interface DecodedTensor extends NamedTensor {
  dtype: 'F32' | 'I32';
  data: Float32Array | Int32Array;
  /** the dtype in the file, before reading it as F32 or I32 */
  fileDtype: SafetensorsDtype;
}

/** Parses and checks a whole safetensors file; every problem is an Error whose message says what is wrong. */
export function decodeSafetensors(buf: Uint8Array): { tensors: Map<string, DecodedTensor>; metadata: Record<string, string> } {
  const { entries, metadata, dataStart } = parseSafetensorsHeader(buf);
  const tensors = new Map<string, DecodedTensor>();
  for (const e of entries) {
    const data = convert(buf.subarray(dataStart + e.begin, dataStart + e.end), e);
    tensors.set(e.name, { name: e.name, dtype: data instanceof Float32Array ? 'F32' : 'I32', fileDtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}
