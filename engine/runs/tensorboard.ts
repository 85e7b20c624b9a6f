/**
 * TensorBoard event files, written without TensorFlow: npm has no maintained writer, and the format is
 * small and public.
 *
 *   file   = record*                         events.out.tfevents.<unix seconds>.<host>
 *   record = uint64 LE length, uint32 LE masked_crc32c(length bytes), data, uint32 LE masked_crc32c(data)
 *   data   = an Event protobuf; the first one carries file_version "brain.Event:2"
 *
 * Scalars are Summary.Value.simple_value (float32); histograms are HistogramProto with TensorFlow's
 * default exponential buckets (±1e-12 × 1.1^k), trimmed to the range that holds values, as TensorFlow
 * and PyTorch's SummaryWriter write them. Records are buffered and written by flush() in one write call,
 * so a killed process loses at most the records since the last flush. That call can still stop part way:
 * Linux ends a write between pages when a SIGKILL arrives, and a power cut can do the same, so a file may
 * end in a torn record. Readers stop before it (TensorBoard's and ours), and truncateEventFiles(), run as a
 * resume starts, cuts files back to the resumed step and drops such a tail.
 * ../shared/reference/read_tfevents.py is the independent reader the tests hold this to.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32c } from '@aws-crypto/crc32c';
import protobuf from 'protobufjs';
import { isTempName, writeFileAtomic } from '../../common/node/atomicWrite';
import { readdirIfExists } from '../../common/node/readdirIfExists';

// The subset of tensorflow/core/util/event.proto, framework/summary.proto that we write or read back.
const PROTO = `
syntax = "proto3";
package tensorboard;
message HistogramProto {
  double min = 1; double max = 2; double num = 3; double sum = 4; double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}
message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    oneof value { float simple_value = 2; HistogramProto histo = 5; }
  }
  repeated Value value = 1;
}
message SessionLog {
  enum SessionStatus { STATUS_UNSPECIFIED = 0; START = 1; STOP = 2; CHECKPOINT = 3; }
  SessionStatus status = 1; string checkpoint_path = 2; string msg = 3;
}
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what { string file_version = 3; Summary summary = 5; SessionLog session_log = 7; }
}
`;

const EventType = protobuf.parse(PROTO, { keepCase: true }).root.lookupType('tensorboard.Event');

export const FILE_VERSION = 'brain.Event:2';
/** TensorBoard picks up files whose name contains this. */
export const EVENT_FILE_MARKER = 'tfevents';

export interface HistogramProto {
  min: number;
  max: number;
  num: number;
  sum: number;
  sum_squares: number;
  bucket_limit: number[];
  bucket: number[];
}

/** An event as written and as read back (only the fields we use). */
export interface TbEvent {
  wall_time: number;
  step: number;
  file_version?: string;
  summary?: { value: { tag: string; simple_value?: number; histo?: HistogramProto }[] };
}

// ---------------------------------------------------------------------------------------------------
// framing

/** TFRecord's CRC: CRC32C rotated right by 15 bits plus a constant, so that CRCs of CRCs stay varied. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes) >>> 0;
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord around `data`. */
export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(16 + data.length);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

export function encodeEvent(event: TbEvent): Uint8Array {
  return EventType.encode(EventType.fromObject(event)).finish();
}

export function decodeEvent(data: Uint8Array): TbEvent {
  // defaults: a step or wall time of 0 is absent on the wire; oneof members stay absent unless set
  return EventType.toObject(EventType.decode(data), { longs: Number, defaults: true }) as TbEvent;
}

/** The records of an event file up to the first bad one: `error` says where it stopped and why. */
export interface EventFileContents {
  events: TbEvent[];
  /** byte length of each good record, in order, so a caller can cut the file after any of them */
  recordBytes: number[];
  /** bytes of the file covered by good records */
  validBytes: number;
  error?: string;
}

export function parseEventRecords(buf: Uint8Array): EventFileContents {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const events: TbEvent[] = [];
  const recordBytes: number[] = [];
  let i = 0;
  let error: string | undefined;
  while (i < b.length) {
    if (i + 12 > b.length) { error = `truncated record header at byte ${i}`; break; }
    if (b.readUInt32LE(i + 8) !== maskedCrc32c(b.subarray(i, i + 8))) { error = `bad length CRC at byte ${i}`; break; }
    const len = b.readBigUInt64LE(i);
    if (len > BigInt(b.length - i - 16)) { error = `truncated record at byte ${i}`; break; }
    const n = Number(len);
    const data = b.subarray(i + 12, i + 12 + n);
    if (b.readUInt32LE(i + 12 + n) !== maskedCrc32c(data)) { error = `bad data CRC at byte ${i}`; break; }
    try {
      events.push(decodeEvent(data));
    } catch (e) {
      error = `record at byte ${i} is not an Event (${(e as Error).message})`;
      break;
    }
    recordBytes.push(16 + n);
    i += 16 + n;
  }
  return { events, recordBytes, validBytes: i, ...(error ? { error } : {}) };
}

export async function readEventFile(file: string): Promise<EventFileContents> {
  const r = parseEventRecords(await fsp.readFile(file));
  return r.error ? { ...r, error: `${file}: ${r.error}` } : r;
}

// ---------------------------------------------------------------------------------------------------
// histograms

let defaultLimits: Float64Array | undefined;

/** TensorFlow's default bucket limits (histogram.cc): -DBL_MAX, -1e20 … -1e-12, 0, 1e-12 … 1e20, DBL_MAX. */
export function defaultBucketLimits(): Float64Array {
  if (!defaultLimits) {
    const pos: number[] = [];
    for (let v = 1e-12; v < 1e20; v *= 1.1) pos.push(v);
    pos.push(Number.MAX_VALUE);
    defaultLimits = Float64Array.from([...pos.map((v) => -v).reverse(), 0, ...pos]);
  }
  return defaultLimits;
}

/**
 * A HistogramProto of `values`: bucket k counts the values v with limit[k-1] ≤ v < limit[k] (TensorFlow's
 * rule), and only the buckets from the first to the last non-empty one are kept. Non-finite values are
 * left out (TensorBoard cannot draw them); `num` counts the values kept.
 */
export function histogramOf(values: ArrayLike<number>): HistogramProto {
  const limits = defaultBucketLimits();
  const counts = new Float64Array(limits.length);
  let min = Infinity;
  let max = -Infinity;
  let num = 0;
  let sum = 0;
  let sumSq = 0;
  for (let j = 0; j < values.length; j++) {
    const v = values[j];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    num += 1;
    sum += v;
    sumSq += v * v;
    let lo = 0;
    let hi = limits.length; // first index whose limit is > v (upper_bound)
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (limits[mid] > v) hi = mid; else lo = mid + 1;
    }
    counts[Math.min(lo, limits.length - 1)] += 1;
  }
  if (num === 0) return { min: 0, max: 0, num: 0, sum: 0, sum_squares: 0, bucket_limit: [0], bucket: [0] };
  let first = 0;
  while (counts[first] === 0) first++;
  let last = counts.length - 1;
  while (counts[last] === 0) last--;
  return {
    min, max, num, sum, sum_squares: sumSq,
    bucket_limit: Array.from(limits.subarray(first, last + 1)),
    bucket: Array.from(counts.subarray(first, last + 1)),
  };
}

// ---------------------------------------------------------------------------------------------------
// the writer

/** The host part of the file name, kept to characters every file system takes. */
function safeHost(host = os.hostname()): string {
  return host.replace(/[^A-Za-z0-9.-]/g, '_') || 'localhost';
}

export interface EventFileOptions {
  /** seconds since the epoch for the file name and the file_version event; default now */
  wallTime?: number;
  /** default os.hostname() */
  host?: string;
}

/**
 * Appends events to one new file in `dir`. add* calls only buffer; flush() writes what is buffered in
 * one write (and fsyncs when asked). One process writes one file; a resumed run starts a new one.
 */
export class EventFileWriter {
  private pending: Buffer[] = [];
  private writes: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(readonly file: string, private readonly fh: fsp.FileHandle) {}

  static async create(dir: string, opts: EventFileOptions = {}): Promise<EventFileWriter> {
    const wallTime = opts.wallTime ?? Date.now() / 1000;
    await fsp.mkdir(dir, { recursive: true });
    const base = `events.out.${EVENT_FILE_MARKER}.${Math.floor(wallTime)}.${safeHost(opts.host)}`;
    for (let n = 0; ; n++) {
      const file = path.join(dir, n === 0 ? base : `${base}.${n}`);
      let fh: fsp.FileHandle;
      try {
        fh = await fsp.open(file, 'wx'); // never append to another process's file
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST' && n < 1000) continue;
        throw e;
      }
      const w = new EventFileWriter(file, fh);
      w.add({ wall_time: wallTime, step: 0, file_version: FILE_VERSION });
      await w.flush({ sync: true });
      return w;
    }
  }

  /** Buffers one event. */
  add(event: TbEvent): void {
    if (this.closed) throw new Error(`${this.file}: the event writer is closed`);
    this.pending.push(frameRecord(encodeEvent(event)));
  }

  /** All these scalars at one step, as one event. Values are stored as float32 (simple_value). */
  addScalars(scalars: Record<string, number>, step: number, wallTime = Date.now() / 1000): void {
    const value = Object.entries(scalars).map(([tag, v]) => ({ tag, simple_value: v }));
    if (value.length) this.add({ wall_time: wallTime, step, summary: { value } });
  }

  addScalar(tag: string, value: number, step: number, wallTime?: number): void {
    this.addScalars({ [tag]: value }, step, wallTime);
  }

  /** Histograms of several tensors at one step (e.g. 'weights/h.0.attn.c_attn.weight', 'grads/…'). */
  addHistograms(values: Record<string, ArrayLike<number>>, step: number, wallTime = Date.now() / 1000): void {
    const value = Object.entries(values).map(([tag, v]) => ({ tag, histo: histogramOf(v) }));
    if (value.length) this.add({ wall_time: wallTime, step, summary: { value } });
  }

  addHistogram(tag: string, values: ArrayLike<number>, step: number, wallTime?: number): void {
    this.addHistograms({ [tag]: values }, step, wallTime);
  }

  /** Writes the buffered records in one write; with sync, also waits until they are on disk. */
  flush(opts: { sync?: boolean } = {}): Promise<void> {
    const batch = this.pending.length ? Buffer.concat(this.pending) : undefined;
    this.pending = [];
    const write = this.writes.then(async () => {
      if (batch) {
        let off = 0;
        while (off < batch.length) off += (await this.fh.write(batch, off, batch.length - off)).bytesWritten;
      }
      if (opts.sync) await this.fh.datasync();
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush({ sync: true });
    this.closed = true;
    await this.fh.close();
  }
}

/** The event files in `dir`, by name (TensorBoard's reading order). */
export async function listEventFiles(dir: string): Promise<string[]> {
  const names = await readdirIfExists(dir);
  return names.filter((n) => n.includes(EVENT_FILE_MARKER) && !isTempName(n)).sort().map((n) => path.join(dir, n));
}

/**
 * On resume from `step`: drops every event after that step from the event files in `dir`, and any tail
 * torn by a crash, rewriting a file atomically only where something changes. The curves then continue
 * from the checkpoint without a second, diverging branch, just as metrics.jsonl does.
 */
export async function truncateEventFiles(dir: string, step: number): Promise<{ file: string; dropped: number; torn: boolean }[]> {
  const changed: { file: string; dropped: number; torn: boolean }[] = [];
  for (const file of await listEventFiles(dir)) {
    const buf = await fsp.readFile(file);
    const r = parseEventRecords(buf);
    const keep: Buffer[] = [];
    let off = 0;
    let dropped = 0;
    r.events.forEach((e, k) => {
      const bytes = r.recordBytes[k];
      // the file_version header stays whatever its step
      if (e.file_version || e.step <= step) keep.push(buf.subarray(off, off + bytes));
      else dropped += 1;
      off += bytes;
    });
    const torn = r.validBytes < buf.length;
    if (dropped || torn) {
      await writeFileAtomic(file, Buffer.concat(keep));
      changed.push({ file, dropped, torn });
    }
  }
  return changed;
}
