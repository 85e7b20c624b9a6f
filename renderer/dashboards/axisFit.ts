/**
 * A y axis fitted to the data it shows, with its ticks and one label format for all of them.
 *
 * Linear: round bounds around the data, ticks every 1, 2, 2.5 or 5 × 10^k (about five).
 * Log: the data's own range (a little padding), ticked at 1-2-5-like values dense enough that a loss
 * going from 4.2 to 2.5 gets 2.5, 3, 3.5, 4 rather than a bare 1 and 10; a range too narrow for those
 * is ticked linearly.
 */
import { formatCount, formatExp } from './format';

export { formatExp };

export interface AxisFit {
  min: number;
  max: number;
  ticks: number[];
  /** one format for every label of the axis (the same decimals, or all in the e notation) */
  format: (v: number) => string;
}

const clean = (v: number) => Number(v.toPrecision(12));

/** 1, 2, 2.5 or 5 × 10^k, the smallest at least `raw` */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const e = 10 ** Math.floor(Math.log10(raw));
  const f = raw / e;
  return clean((f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e);
}

function linearTicks(min: number, max: number, step: number): number[] {
  const out: number[] = [];
  const first = Math.ceil(clean(min / step));
  for (let i = first; i * step <= max + step * 1e-9 && out.length < 50; i++) out.push(clean(i * step) || 0);
  return out;
}

/** mantissas per decade, sparse to dense */
const LOG_MANTISSAS = [
  [1],
  [1, 3],
  [1, 2, 5],
  [1, 2, 3, 5],
  [1, 1.5, 2, 3, 5, 7],
  [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8],
  [1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9],
];

function logTicks(min: number, max: number): number[] {
  const k0 = Math.floor(Math.log10(min)), k1 = Math.ceil(Math.log10(max));
  for (const ms of LOG_MANTISSAS) {
    const ticks: number[] = [];
    for (let k = k0; k <= k1; k++) for (const m of ms) { const v = clean(m * 10 ** k); if (v >= min && v <= max) ticks.push(v); }
    if (ticks.length >= 4 || (ms.length === 1 && ticks.length >= 3)) {
      // many decades: every other (third, …) power of ten
      const every = ms.length === 1 ? Math.ceil(ticks.length / 8) : 1;
      return every > 1 ? ticks.filter((v) => (((Math.round(Math.log10(v)) % every) + every) % every) === 0) : ticks;
    }
  }
  // narrower than the densest mantissas resolve: linear ticks within the range
  return linearTicks(min, max, niceStep((max - min) / 5));
}

/** One format for all the axis's labels: the e notation for tiny or huge values, else the same decimals. */
export function axisFormat(ticks: readonly number[]): (v: number) => string {
  const big = Math.max(0, ...ticks.map(Math.abs));
  if (big >= 1e4) return (v) => (v === 0 ? '0' : formatCount(v));
  if (big > 0 && big < 1e-2) return formatExp;
  const decimals = Math.min(6, Math.max(0, ...ticks.map((t) => {
    const s = String(clean(Math.abs(t)));
    return s.includes('e') ? 6 : s.includes('.') ? s.length - s.indexOf('.') - 1 : 0;
  })));
  return (v) => v.toFixed(decimals);
}

/**
 * The axis for data in [lo, hi] (finite, and positive on a log axis); null when there is none.
 */
export function fitAxis(lo: number, hi: number, log: boolean): AxisFit | null {
  if (!(lo <= hi) || !Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  if (log) {
    if (!(lo > 0)) return null;
    const pad = 10 ** Math.max(0.05 * Math.log10(hi / lo), 0.004);
    const min = lo / pad, max = hi * pad;
    const ticks = logTicks(min, max);
    return { min, max, ticks, format: axisFormat(ticks) };
  }
  if (lo === hi) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
  const step = niceStep((hi - lo) / 5);
  const min = clean(Math.floor(clean(lo / step)) * step), max = clean(Math.ceil(clean(hi / step)) * step);
  const ticks = linearTicks(min, max, step);
  return { min, max, ticks, format: axisFormat(ticks) };
}
