/** Numbers as chart axes and labels show them. */
import type { XAxisMode } from './metricsBuffer';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatCount(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${+(n / 1e9).toPrecision(3)}B`;
  if (a >= 1e6) return `${+(n / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(n / 1e3).toPrecision(3)}k`;
  return `${+n.toPrecision(4)}`;
}

/** A step number exactly, with thousands separators (1,200 / 25,000): progress must not round. */
export const formatStep = (n: number): string => Math.round(n).toLocaleString('en-US');

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return formatExp(v);
  return `${+v.toPrecision(4)}`;
}

/** 8e−4, 2.5e−4, 1e−3, 0: three significant digits at most, no trailing zeros */
export function formatExp(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  let exp = Math.floor(Math.log10(Math.abs(v)));
  let m = Number((v / 10 ** exp).toPrecision(3));
  if (Math.abs(m) >= 10) { m /= 10; exp += 1; }
  return `${m}e${exp < 0 ? '−' : ''}${Math.abs(exp)}`;
}

export function formatX(mode: XAxisMode, x: number): string {
  return mode === 'wall' ? formatDuration(x) : formatCount(x);
}

export const X_AXIS_LABEL: Record<XAxisMode, string> = { step: 'step', tokens: 'tokens seen', wall: 'wall time' };
