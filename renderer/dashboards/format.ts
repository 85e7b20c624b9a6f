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

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return `${+v.toPrecision(4)}`;
}

export function formatX(mode: XAxisMode, x: number): string {
  return mode === 'wall' ? formatDuration(x) : formatCount(x);
}

export const X_AXIS_LABEL: Record<XAxisMode, string> = { step: 'step', tokens: 'tokens seen', wall: 'wall time' };
