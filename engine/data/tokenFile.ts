/**
 * A split's token stream as a file of raw little-endian ids (uint16 when the vocabulary fits, else int32), written
 * in bounded blocks and read back by position: what a streamed dataset trains from, so that neither preparing nor
 * training holds the stream in memory. A reader looks like the Int32Array the in-memory path hands out (`length`,
 * `subarray`), so batching code reads both alike (TokenWindow).
 */
import fs from 'node:fs';
import type { TokenWindow } from './types';

export type TokenDtype = 'uint16' | 'int32';

export const bytesPerToken = (dtype: TokenDtype) => (dtype === 'uint16' ? 2 : 4);

/** The narrowest dtype that holds every id of a vocabulary. */
export const dtypeFor = (vocabSize: number): TokenDtype => (vocabSize <= 0x10000 ? 'uint16' : 'int32');

/** Tokens kept before a write: 4 MiB at most (int32), whatever the split's size. */
const BLOCK_TOKENS = 1 << 20;

export class TokenFileWriter {
  private readonly block: Uint16Array | Int32Array;
  private used = 0;
  /** tokens written so far, buffered ones included */
  count = 0;

  private constructor(private readonly fh: fs.promises.FileHandle, readonly dtype: TokenDtype) {
    this.block = dtype === 'uint16' ? new Uint16Array(BLOCK_TOKENS) : new Int32Array(BLOCK_TOKENS);
  }

  static async create(file: string, dtype: TokenDtype): Promise<TokenFileWriter> {
    return new TokenFileWriter(await fs.promises.open(file, 'wx'), dtype);
  }

  /** Appends ids; when the block fills, the caller awaits flush() before pushing more (`full`). */
  push(ids: readonly number[] | number): void {
    if (typeof ids === 'number') { this.block[this.used++] = ids; this.count++; return; }
    for (const id of ids) {
      if (this.used === this.block.length) throw new Error('TokenFileWriter: block full; await flush() when full is true');
      this.block[this.used++] = id;
    }
    this.count += ids.length;
  }

  /** true once fewer than `room` ids fit: flush before pushing a sentence's worth */
  full(room = 65_536): boolean {
    return this.used + room > this.block.length;
  }

  async flush(): Promise<void> {
    if (!this.used) return;
    const b = this.block.subarray(0, this.used);
    await this.fh.write(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    this.used = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.fh.sync();
    await this.fh.close();
  }

  /** Closes without syncing after a failure; the caller removes the file. */
  async abandon(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

/** A token file read by position: each subarray() is one read of just the ids asked for. */
export class TokenFile implements TokenWindow {
  private fd: number | null;

  constructor(readonly file: string, readonly dtype: TokenDtype, readonly length: number) {
    this.fd = fs.openSync(file, 'r');
  }

  subarray(begin: number, end: number): Int32Array {
    if (this.fd === null) throw new Error(`${this.file}: read after close`);
    const from = Math.max(0, Math.min(begin, this.length));
    const n = Math.max(0, Math.min(end, this.length) - from);
    const size = bytesPerToken(this.dtype);
    const buf = Buffer.allocUnsafe(n * size);
    let got = 0;
    while (got < buf.length) {
      const r = fs.readSync(this.fd, buf, got, buf.length - got, from * size + got);
      if (r === 0) throw new Error(`${this.file}: ends before token ${from + n} (${from + got / size} read); delete it so that it is prepared again`);
      got += r;
    }
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = size === 2 ? buf.readUInt16LE(2 * i) : buf.readInt32LE(4 * i);
    return out;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
