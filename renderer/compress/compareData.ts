/**
 * What the compress cell draws from a comparison (common/compare.ts) and the runs list: a base's variants,
 * the points of the quality-against-size and quality-against-latency charts, and the scales they sit on.
 * Pure, so that it is tested without a browser.
 */
import type { CompareRow, Comparison, LatencyRuntime } from '../../common/compare';
import { runConfigOf } from '../../common/runConfig';
import type { RunListItem } from '../state/runsSlice';

export interface VariantInfo { runId: string; name: string; method: string; status: string; step: number; checkpoint: string }

/** The runs of the experiment derived from `baseRunId` (their run.json names it as base), oldest first. */
export function variantsOfBase(history: readonly RunListItem[], baseRunId: string | undefined): VariantInfo[] {
  if (!baseRunId) return [];
  const out: VariantInfo[] = [];
  for (const r of history) {
    if (!r.ok) continue;
    const config = runConfigOf(r.run);
    if (!config || (config.task !== 'compress' && config.task !== 'finetune') || config.base.runId !== baseRunId) continue;
    const method = config.task === 'compress' ? config.compress.method : 'finetune';
    out.push({ runId: r.id, name: r.run.name, method, status: r.run.status, step: r.run.step, checkpoint: config.base.checkpoint });
  }
  return out.sort((a, b) => a.runId.localeCompare(b.runId));
}

export interface TradeoffPoint { runId: string; method: string; role: CompareRow['role']; x: number; y: number; runtime?: LatencyRuntime }

/**
 * Quality (validation loss: lower is better) against size on disk, or against latency per sequence — one
 * point per runtime a model was timed in, so that TF.js and ONNX Runtime figures are never mixed on one mark.
 */
export function tradeoffPoints(c: Comparison, axis: 'size' | 'latency'): TradeoffPoint[] {
  const points: TradeoffPoint[] = [];
  for (const r of c.rows) {
    if (r.valLoss === null) continue;
    const base = { runId: r.runId, method: r.method, role: r.role, y: r.valLoss };
    if (axis === 'size') {
      if (r.bytesOnDisk !== null && r.bytesOnDisk > 0) points.push({ ...base, x: r.bytesOnDisk });
    } else {
      for (const l of r.latency) points.push({ ...base, x: l.msPerSequence, runtime: l.runtime });
    }
  }
  return points;
}

/** A linear scale from [d0, d1] onto [r0, r1] (a flat domain maps to the middle), with its domain padded by `pad` of its span. */
export function linearScale(values: number[], r0: number, r1: number, pad = 0.08): { at: (v: number) => number; ticks: number[] } {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) { lo = 0; hi = 1; }
  if (hi === lo) { lo -= Math.abs(lo) * 0.05 || 0.5; hi += Math.abs(hi) * 0.05 || 0.5; }
  const span = hi - lo;
  const d0 = lo - span * pad, d1 = hi + span * pad;
  const at = (v: number) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
  const step = 10 ** Math.floor(Math.log10((d1 - d0) / 4));
  const unit = [1, 2, 5, 10].map((m) => m * step).find((s) => (d1 - d0) / s <= 6) ?? step * 10;
  const ticks: number[] = [];
  for (let t = Math.ceil(d0 / unit) * unit; t <= d1; t += unit) ticks.push(Number(t.toPrecision(12)));
  return { at, ticks };
}

/** A log₁₀ scale (sizes and latencies span orders of magnitude), ticks at powers of ten and their 2 and 5 multiples inside the domain. */
export function logScale(values: number[], r0: number, r1: number): { at: (v: number) => number; ticks: number[] } {
  const logs = values.filter((v) => v > 0).map(Math.log10);
  const lin = linearScale(logs.length ? logs : [0, 1], r0, r1);
  const at = (v: number) => lin.at(Math.log10(v));
  const inside = (v: number) => (at(v) - r0) * (at(v) - r1) <= 0;
  const lo = Math.floor(Math.min(...(logs.length ? logs : [0]))) - 1, hi = Math.ceil(Math.max(...(logs.length ? logs : [1]))) + 1;
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) for (const m of [1, 2, 5]) if (inside(m * 10 ** e)) ticks.push(m * 10 ** e);
  // a narrow domain between two round numbers: its ends, to as few figures as keep them apart and inside, say where the marks are
  for (let digits = 2; ticks.length < 2 && logs.length && digits <= 4; digits++) {
    const ends = [...new Set([Math.min(...logs), Math.max(...logs)].map((l) => Number((10 ** l).toPrecision(digits))))].filter(inside);
    if (ends.length >= 2) return { at, ticks: ends };
  }
  return { at, ticks };
}

/** A heatmap colour for a divergence in [0, 1] bits: white at 0 to deep red at `max` (the largest shown, so small differences stay visible). */
export function divergenceColor(v: number, max: number): string {
  const t = max > 0 ? Math.min(1, Math.max(0, v / max)) : 0;
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(255, 165)},${mix(255, 15)},${mix(255, 21)})`;
}
