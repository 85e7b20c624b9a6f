/**
 * TensorBoard's debiased exponential moving average, computed over the whole series from its first point.
 * The smoothed value at index i depends only on points 0..i, so appending points never moves a smoothed
 * point that is already drawn (the "smoothing shifts as training goes on" complaint). Non-finite values
 * pass through unsmoothed and do not enter the average, as in TensorBoard.
 */

export const MAX_SMOOTHING = 0.999;

/** Running state of one EMA, so a longer series continues where the shorter one stopped. */
export interface EmaState { last: number; count: number }

/** Smooths values[from..to) into out[from..to), continuing `state` (which it updates). */
export function emaInto(values: ArrayLike<number>, out: Float64Array, from: number, to: number, weight: number, state: EmaState): void {
  const w = Math.min(Math.max(weight, 0), MAX_SMOOTHING);
  let { last, count } = state;
  for (let i = from; i < to; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) { out[i] = v; continue; }
    last = last * w + (1 - w) * v;
    count += 1;
    // dividing by 1 - w^count removes the bias towards the zero the average started from
    out[i] = w === 0 ? v : last / (1 - Math.pow(w, count));
  }
  state.last = last;
  state.count = count;
}

/** The debiased EMA of a whole series; weight 0 returns the values, 0.999 is the strongest smoothing. */
export function ema(values: ArrayLike<number>, weight: number): Float64Array {
  const out = new Float64Array(values.length);
  emaInto(values, out, 0, values.length, weight, { last: 0, count: 0 });
  return out;
}

/**
 * The smoothed copy of a growing series: extending it smooths only the new tail. `reset` when points were
 * replaced or dropped (a resumed run), or the weight changed.
 */
export class IncrementalEma {
  private out = new Float64Array(0);
  private done = 0;
  private state: EmaState = { last: 0, count: 0 };
  constructor(public readonly weight: number) {}

  reset(): void { this.done = 0; this.state = { last: 0, count: 0 }; }

  /** the smoothed values of values[0..length); the array may be longer than `length` */
  update(values: ArrayLike<number>, length: number): Float64Array {
    if (length < this.done) this.reset();
    if (this.out.length < length) {
      const grown = new Float64Array(Math.max(length, this.out.length * 2, 64));
      grown.set(this.out.subarray(0, this.done));
      this.out = grown;
    }
    emaInto(values, this.out, this.done, length, this.weight, this.state);
    this.done = length;
    return this.out;
  }
}
