/**
 * Downsampling that keeps what a reader must see: per horizontal bucket (about two pixels) the first, the
 * lowest, the highest and the last point (M4), in their original order. Spikes survive at every zoom
 * level, the curve's first and last points are always drawn, and a bucket that holds a non-finite value
 * keeps it (a gap in the line) instead of hiding the divergence.
 */

export interface Points { x: Float64Array; y: Float64Array; length: number }

const empty = (): Points => ({ x: new Float64Array(0), y: new Float64Array(0), length: 0 });

/** First index with x[i] >= value in the sorted x[0..length). */
export function lowerBound(x: ArrayLike<number>, length: number, value: number): number {
  let lo = 0, hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] < value) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * M4 downsampling of the points with index in [from, to) (x sorted ascending) into `buckets` equal x
 * ranges. Returns at most 4 × buckets points (5 where a bucket holds a non-finite value); a range with
 * no more than 2 × buckets points comes back unchanged.
 */
export function downsample(x: ArrayLike<number>, y: ArrayLike<number>, buckets: number, from = 0, to = Math.min(x.length, y.length)): Points {
  const n = to - from;
  if (n <= 0) return empty();
  if (n <= 2 * buckets || buckets < 1) {
    return { x: Float64Array.from({ length: n }, (_, i) => x[from + i]), y: Float64Array.from({ length: n }, (_, i) => y[from + i]), length: n };
  }
  const x0 = x[from], span = x[to - 1] - x0;
  const scale = span > 0 ? buckets / span : 0;
  const keep: number[] = [];
  let b = -1, first = 0, last = 0, min = -1, max = -1, bad = -1;
  const flush = () => {
    const idx = [first, last];
    if (min >= 0) idx.push(min, max);
    if (bad >= 0) idx.push(bad);
    idx.sort((p, q) => p - q);
    for (let k = 0; k < idx.length; k++) if (k === 0 || idx[k] !== idx[k - 1]) keep.push(idx[k]);
  };
  for (let i = from; i < to; i++) {
    const bi = Math.min(buckets - 1, Math.floor((x[i] - x0) * scale));
    if (bi !== b) {
      if (b >= 0) flush();
      b = bi; first = i; min = -1; max = -1; bad = -1;
    }
    last = i;
    const v = y[i];
    if (Number.isFinite(v)) {
      if (min < 0 || v < y[min]) min = i;
      if (max < 0 || v > y[max]) max = i;
    } else if (bad < 0) bad = i;
  }
  flush();
  const out = { x: new Float64Array(keep.length), y: new Float64Array(keep.length), length: keep.length };
  keep.forEach((i, k) => { out.x[k] = x[i]; out.y[k] = y[i]; });
  return out;
}

/**
 * M4 for a series that grows at its end while the view shows all of it (a live run): each new point
 * updates one bucket, and when the buckets outgrow twice the target their width doubles by merging
 * neighbours — so a batch costs time for its own points, not for the whole history. Same output
 * rules as `downsample`. Call `reset` when earlier points changed.
 */
export class TailDownsampler {
  private width = 0;
  private x0 = 0;
  private done = 0;
  private count = 0;
  // per bucket: indices of first, last, min, max (-1: none finite) and first non-finite (-1: none)
  private first = new Int32Array(0);
  private last = new Int32Array(0);
  private min = new Int32Array(0);
  private max = new Int32Array(0);
  private bad = new Int32Array(0);
  private key = new Float64Array(0);

  constructor(public readonly target: number) {}

  reset(): void { this.done = 0; this.count = 0; this.width = 0; }

  update(x: ArrayLike<number>, y: ArrayLike<number>, length: number): Points {
    if (length < this.done) this.reset();
    this.yRef = y;
    if (this.done === 0 && length > 0) {
      this.x0 = x[0];
      // start as fine as the data: the smallest positive spacing among the first points
      let w = Infinity;
      for (let i = 1; i < Math.min(length, 64); i++) { const d = x[i] - x[i - 1]; if (d > 0 && d < w) w = d; }
      this.width = Number.isFinite(w) ? w : 1;
    }
    for (let i = this.done; i < length; i++) this.add(i, Math.floor((x[i] - this.x0) / this.width), y);
    this.done = length;
    return this.points(x, y);
  }

  private add(i: number, k: number, y: ArrayLike<number>): void {
    let b = this.count - 1;
    if (b < 0 || this.key[b] !== k) {
      while (this.count >= 2 * this.target && b >= 0) { this.halve(); b = this.count - 1; k = Math.floor(k / 2); }
      if (b >= 0 && this.key[b] === k) { this.put(b, i, y); return; }
      this.grow();
      b = this.count++;
      this.key[b] = k; this.first[b] = i; this.min[b] = -1; this.max[b] = -1; this.bad[b] = -1;
    }
    this.put(b, i, y);
  }

  private put(b: number, i: number, y: ArrayLike<number>): void {
    this.last[b] = i;
    const v = y[i];
    if (Number.isFinite(v)) {
      if (this.min[b] < 0 || v < y[this.min[b]]) this.min[b] = i;
      if (this.max[b] < 0 || v > y[this.max[b]]) this.max[b] = i;
    } else if (this.bad[b] < 0) this.bad[b] = i;
  }

  /** doubles the bucket width, merging buckets whose keys now coincide */
  private halve(): void {
    this.width *= 2;
    let out = -1;
    for (let b = 0; b < this.count; b++) {
      const k = Math.floor(this.key[b] / 2);
      if (out >= 0 && this.key[out] === k) {
        this.last[out] = this.last[b];
        if (this.min[b] >= 0 && (this.min[out] < 0 || this.yAt(this.min[b]) < this.yAt(this.min[out]))) this.min[out] = this.min[b];
        if (this.max[b] >= 0 && (this.max[out] < 0 || this.yAt(this.max[b]) > this.yAt(this.max[out]))) this.max[out] = this.max[b];
        if (this.bad[out] < 0) this.bad[out] = this.bad[b];
      } else {
        out += 1;
        this.key[out] = k; this.first[out] = this.first[b]; this.last[out] = this.last[b];
        this.min[out] = this.min[b]; this.max[out] = this.max[b]; this.bad[out] = this.bad[b];
      }
    }
    this.count = out + 1;
  }

  private yRef: ArrayLike<number> = [];
  private yAt(i: number): number { return this.yRef[i]; }

  private grow(): void {
    if (this.count < this.key.length) return;
    const n = Math.max(16, this.key.length * 2);
    const g = <T extends Int32Array | Float64Array>(a: T): T => { const b = new (a.constructor as new (n: number) => T)(n); b.set(a); return b; };
    this.key = g(this.key); this.first = g(this.first); this.last = g(this.last);
    this.min = g(this.min); this.max = g(this.max); this.bad = g(this.bad);
  }

  private points(x: ArrayLike<number>, y: ArrayLike<number>): Points {
    const xs: number[] = [], ys: number[] = [];
    const idx = [0, 0, 0, 0, 0];
    for (let b = 0; b < this.count; b++) {
      let n = 0;
      idx[n++] = this.first[b]; idx[n++] = this.last[b];
      if (this.min[b] >= 0) { idx[n++] = this.min[b]; idx[n++] = this.max[b]; }
      if (this.bad[b] >= 0) idx[n++] = this.bad[b];
      const sorted = idx.slice(0, n).sort((p, q) => p - q);
      for (let k = 0; k < n; k++) {
        if (k > 0 && sorted[k] === sorted[k - 1]) continue;
        xs.push(x[sorted[k]]); ys.push(y[sorted[k]]);
      }
    }
    return { x: Float64Array.from(xs), y: Float64Array.from(ys), length: xs.length };
  }
}
