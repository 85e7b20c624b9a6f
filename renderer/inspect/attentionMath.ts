/**
 * The numbers the inspect views draw, kept apart from drawing so that tests check them: which heads go
 * where in the model view (in order, or sorted by a statistic), the summed attention of several queries,
 * which keys a query cannot see (a causal model's future), and which lines the lines view draws.
 */
import type { HeadGrid } from '../../common/attentionMaps';

export interface HeadRef { layer: number; head: number }

/** The model view's order: layer by layer, or every head sorted by `grid`'s value (largest first; heads without one last). */
export function headOrder(layers: number, heads: number, grid: HeadGrid | null, sorted: boolean): HeadRef[] {
  const all: HeadRef[] = [];
  for (let layer = 0; layer < layers; layer++) for (let head = 0; head < heads; head++) all.push({ layer, head });
  if (!sorted || !grid) return all;
  const v = (r: HeadRef) => grid[r.layer]?.[r.head];
  return all.sort((a, b) => {
    const x = v(a), y = v(b);
    if (x === undefined || !Number.isFinite(x)) return y === undefined || !Number.isFinite(y) ? 0 : 1;
    if (y === undefined || !Number.isFinite(y)) return -1;
    return y - x || a.layer - b.layer || a.head - b.head;
  });
}

/** The smallest and largest finite value of a grid ([0, 0] when it has none). */
export function gridRange(grid: HeadGrid | null): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const row of grid ?? []) for (const v of row) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return lo <= hi ? [lo, hi] : [0, 0];
}

export interface GridLayout {
  /** columns and rows of thumbnails */
  cols: number;
  rows: number;
  /** a thumbnail's side and the gap after it, in CSS pixels */
  cell: number;
  gap: number;
  width: number;
  height: number;
}

/**
 * Thumbnails in `width` pixels: one row per layer in layer order (heads across), or, sorted, as many per
 * row as fit a head count's row; cells between 24 and 96 pixels.
 */
export function gridLayout(layers: number, heads: number, width: number, sorted: boolean): GridLayout {
  const gap = 4;
  const cols = sorted ? Math.max(1, Math.min(layers * heads, Math.floor((width + gap) / (48 + gap)))) : heads;
  const cell = Math.max(24, Math.min(96, Math.floor((width + gap) / cols) - gap));
  const rows = Math.ceil((layers * heads) / cols);
  return { cols, rows, cell, gap, width: cols * (cell + gap) - gap, height: rows * (cell + gap) - gap };
}

/** Which thumbnail (its index in the order) is at (x, y), or null in a gap or outside. */
export function hitGrid(g: GridLayout, x: number, y: number, count: number): number | null {
  const c = Math.floor(x / (g.cell + g.gap)), r = Math.floor(y / (g.cell + g.gap));
  if (x < 0 || y < 0 || c >= g.cols || r >= g.rows) return null;
  if (x - c * (g.cell + g.gap) >= g.cell || y - r * (g.cell + g.gap) >= g.cell) return null;
  const i = r * g.cols + c;
  return i < count ? i : null;
}

/**
 * Attention summed over the selected query rows of a T×T map (BertViz users ask for it: what a phrase
 * attends to). No selection: every row, divided by T, the mean. Out-of-range queries are ignored.
 */
export function summedAttention(map: ArrayLike<number>, T: number, queries: readonly number[]): Float32Array {
  const rows = queries.length ? [...new Set(queries)].filter((q) => q >= 0 && q < T) : Array.from({ length: T }, (_, i) => i);
  const out = new Float32Array(T);
  for (const q of rows) for (let k = 0; k < T; k++) out[k] += map[q * T + k];
  if (!queries.length) for (let k = 0; k < T; k++) out[k] /= T;
  return out;
}

/** Whether key `k` is hidden from query `q`: in a causal model every later position is. */
export const isMasked = (causal: boolean, q: number, k: number): boolean => causal && k > q;

/** Keys hidden from every selected query (none selected: from the last query, i.e. none for a full causal view). */
export function maskedKeys(causal: boolean, T: number, queries: readonly number[]): boolean[] {
  const qs = queries.length ? queries : [T - 1];
  return Array.from({ length: T }, (_, k) => qs.every((q) => isMasked(causal, q, k)));
}

export interface Line { q: number; k: number; w: number }

/**
 * The lines view's lines: query → key weights of the selected queries (all queries when none), at least
 * `minWeight`, the heaviest `max` of them (a 512-token map has 262,144), lightest first so heavy ones draw on top.
 */
export function attentionLines(map: ArrayLike<number>, T: number, queries: readonly number[], minWeight = 0.02, max = 6000): Line[] {
  const rows = queries.length ? queries.filter((q) => q >= 0 && q < T) : Array.from({ length: T }, (_, i) => i);
  const lines: Line[] = [];
  for (const q of rows) for (let k = 0; k < T; k++) { const w = map[q * T + k]; if (w >= minWeight) lines.push({ q, k, w }); }
  lines.sort((a, b) => b.w - a.w);
  return lines.slice(0, max).reverse();
}

/** Adds `q` to the selection, or removes it; with `additive` false the selection becomes `q` alone (or empty when it was just `q`). */
export function toggleQuery(selected: readonly number[], q: number, additive: boolean): number[] {
  const has = selected.includes(q);
  if (!additive) return has && selected.length === 1 ? [] : [q];
  return has ? selected.filter((x) => x !== q) : [...selected, q].sort((a, b) => a - b);
}
