/**
 * Canvas drawing of the inspect views. Maps become ImageData one pixel per cell (a table lookup each) and
 * are scaled up with smoothing off, so a 512×512 head or 144 thumbnails draw in a few milliseconds; the
 * labels are drawn on the same canvas, so a PNG export shows what the screen shows.
 */
import { type GridLayout, type HeadRef, type Line, isMasked } from './attentionMath';
import { HEAT_TABLE, MASKED_RGB, css } from './colormap';

/** A canvas sized for `w`×`h` CSS pixels at the screen's density, its context scaled to CSS pixels. */
export function sizeCanvas(canvas: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.imageSmoothingEnabled = false;
  return ctx;
}

/** Clears the whole canvas (its context may be scaled: the backing size bounds any scale ≥ 1). */
const clear = (ctx: CanvasRenderingContext2D) => ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);

/** An offscreen canvas of `rows`×`cols` pixels from table indices 0–255, -1 for masked. */
export function indexCanvas(rows: number, cols: number, index: Int16Array): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = cols;
  c.height = rows;
  const img = new ImageData(cols, rows);
  const px = new Uint32Array(img.data.buffer);
  // RGBA as one little-endian word per pixel: a table of 257 words, masked first
  const words = new Uint32Array(257);
  words[0] = (255 << 24) | (MASKED_RGB[2] << 16) | (MASKED_RGB[1] << 8) | MASKED_RGB[0];
  for (let i = 0; i < 256; i++) words[i + 1] = (255 << 24) | (HEAT_TABLE[i * 3 + 2] << 16) | (HEAT_TABLE[i * 3 + 1] << 8) | HEAT_TABLE[i * 3];
  for (let p = 0; p < index.length; p++) px[p] = words[index[p] + 1];
  c.getContext('2d')!.putImageData(img, 0, 0);
  return c;
}

/** The thumbnails as one atlas: head i of the flat [layer][head] order at rows i·S … i·S+S−1. */
export function thumbAtlas(thumbs: Uint8Array, count: number, S: number, causal: boolean, T: number): HTMLCanvasElement {
  // a block is grey only when every key in it lies after every query in it
  const edge = (i: number) => Math.floor((i * T) / S);
  const index = Int16Array.from(thumbs);
  if (causal) {
    for (let r = 0; r < count * S; r++) {
      const lastQuery = edge((r % S) + 1) - 1;
      for (let c = 0; c < S; c++) if (edge(c) > lastQuery) index[r * S + c] = -1;
    }
  }
  return indexCanvas(count * S, S, index);
}

export interface ModelGridStyle {
  /** each head's frame colour (by the chosen statistic) */
  frame: (h: HeadRef) => string;
  selected: HeadRef | null;
  hovered: number | null;
}

/** The model view: every head's thumbnail in `order`, framed by its statistic's colour, labelled L.H. */
export function drawModelGrid(ctx: CanvasRenderingContext2D, atlas: HTMLCanvasElement, S: number, heads: number, order: HeadRef[], g: GridLayout, style: ModelGridStyle): void {
  clear(ctx);
  ctx.font = '10px ui-monospace, monospace';
  ctx.textBaseline = 'top';
  order.forEach((h, i) => {
    const x = (i % g.cols) * (g.cell + g.gap) + 2, y = Math.floor(i / g.cols) * (g.cell + g.gap) + 2;
    const src = (h.layer * heads + h.head) * S;
    ctx.drawImage(atlas, 0, src, S, S, x, y, g.cell, g.cell);
    const sel = style.selected && style.selected.layer === h.layer && style.selected.head === h.head;
    ctx.lineWidth = sel ? 3 : 2;
    ctx.strokeStyle = sel ? '#111' : style.frame(h);
    ctx.strokeRect(x - 1, y - 1, g.cell + 2, g.cell + 2);
    if (style.hovered === i) { ctx.fillStyle = 'rgba(0,0,0,0.12)'; ctx.fillRect(x, y, g.cell, g.cell); }
    ctx.fillStyle = 'rgba(255,255,255,0.85)';
    ctx.fillRect(x, y, 26, 12);
    ctx.fillStyle = '#222';
    ctx.fillText(`${h.layer}.${h.head}`, x + 2, y + 1);
  });
}

/** A head's T×T map as a table-index picture: scaled to the map's own maximum, masked cells grey. */
export function headPicture(map: Float32Array, T: number, causal: boolean): { canvas: HTMLCanvasElement; max: number } {
  let max = 0;
  for (const v of map) if (v > max) max = v;
  const s = max > 0 ? 255 / max : 0;
  const index = new Int16Array(T * T);
  for (let q = 0; q < T; q++) {
    for (let k = 0; k < T; k++) index[q * T + k] = isMasked(causal, q, k) ? -1 : Math.round(map[q * T + k] * s);
  }
  return { canvas: indexCanvas(T, T, index), max };
}

export interface HeadLayout { T: number; cell: number; left: number; top: number; labels: boolean }

/** Cells of 1 to 36 pixels so the map fits `size`; token labels when a cell is tall enough to read one. */
export function headLayout(T: number, size: number): HeadLayout {
  const cell = Math.max(1, Math.min(36, Math.floor(size / T)));
  const labels = cell >= 9;
  return { T, cell, left: labels ? 84 : 8, top: labels ? 84 : 8, labels };
}

const short = (t: string, n = 11) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

/** The head view: the picture with query tokens down the left, key tokens across the top, selected queries marked. */
export function drawHead(ctx: CanvasRenderingContext2D, picture: HTMLCanvasElement, tokens: string[], l: HeadLayout, selected: readonly number[], segment?: readonly number[]): void {
  const { T, cell, left, top } = l;
  clear(ctx);
  ctx.drawImage(picture, 0, 0, T, T, left, top, T * cell, T * cell);
  if (l.labels) {
    ctx.font = `${Math.min(12, cell)}px ui-monospace, monospace`;
    ctx.textBaseline = 'middle';
    tokens.forEach((t, i) => {
      const sel = selected.includes(i);
      ctx.fillStyle = sel ? '#b00' : segment?.[i] ? '#6a3d9a' : '#222';
      ctx.textAlign = 'right';
      ctx.fillText(short(t), left - 4, top + (i + 0.5) * cell);
      ctx.save();
      ctx.translate(left + (i + 0.5) * cell, top - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'left';
      ctx.fillStyle = segment?.[i] ? '#6a3d9a' : '#222';
      ctx.fillText(short(t), 0, 0);
      ctx.restore();
    });
    ctx.textAlign = 'left';
  }
  ctx.strokeStyle = '#b00';
  ctx.lineWidth = 1.5;
  for (const q of selected) ctx.strokeRect(left - 0.5, top + q * cell - 0.5, T * cell + 1, cell + 1);
}

export interface LinesLayout { row: number; width: number; height: number; xq: number; xk: number; pad: number }

export function linesLayout(T: number, width: number): LinesLayout {
  const row = T > 128 ? 10 : T > 48 ? 14 : 18;
  return { row, width, height: T * row + 16, xq: Math.round(width * 0.3), xk: Math.round(width * 0.7), pad: 8 };
}

/**
 * BertViz's lines: queries on the left, keys on the right, a line per weight (opacity = weight), keys
 * shaded by the selected queries' summed attention; masked keys in grey italics, a pair's second segment in purple.
 */
export function drawLines(ctx: CanvasRenderingContext2D, tokens: string[], lines: Line[], summed: Float32Array, masked: boolean[], selected: readonly number[], l: LinesLayout, segment?: readonly number[]): void {
  clear(ctx);
  const y = (i: number) => l.pad + (i + 0.5) * l.row;
  ctx.lineWidth = Math.max(1, l.row / 6);
  for (const { q, k, w } of lines) {
    ctx.strokeStyle = `rgba(33,113,181,${Math.min(1, w).toFixed(3)})`;
    ctx.beginPath();
    ctx.moveTo(l.xq + 4, y(q));
    ctx.lineTo(l.xk - 4, y(k));
    ctx.stroke();
  }
  let top = 0;
  for (const v of summed) top = Math.max(top, v);
  const font = `${Math.min(12, l.row - 2)}px ui-monospace, monospace`;
  ctx.textBaseline = 'middle';
  // queries: one font for the column (a font change per token costs more than the text)
  ctx.font = font;
  ctx.textAlign = 'right';
  tokens.forEach((t, i) => {
    const sel = selected.includes(i);
    if (sel) { ctx.fillStyle = 'rgba(176,0,0,0.12)'; ctx.fillRect(l.xq - 120, y(i) - l.row / 2, 120, l.row); }
    ctx.fillStyle = sel ? '#b00' : segment?.[i] ? '#6a3d9a' : '#222';
    ctx.fillText(short(t, 16), l.xq, y(i));
  });
  // keys: shaded by the summed attention; the masked ones grey, their labels in italics afterwards
  ctx.textAlign = 'left';
  tokens.forEach((t, i) => {
    if (masked[i]) { ctx.fillStyle = css(MASKED_RGB); ctx.fillRect(l.xk, y(i) - l.row / 2, 120, l.row); return; }
    const s = top > 0 ? summed[i] / top : 0;
    ctx.fillStyle = `rgba(33,113,181,${(0.85 * s).toFixed(3)})`;
    ctx.fillRect(l.xk, y(i) - l.row / 2, 120, l.row);
    ctx.fillStyle = s > 0.6 ? '#fff' : segment?.[i] ? '#6a3d9a' : '#222';
    ctx.fillText(short(t, 16), l.xk + 2, y(i));
  });
  ctx.font = `italic ${font}`;
  ctx.fillStyle = '#777';
  tokens.forEach((t, i) => { if (masked[i]) ctx.fillText(short(t, 16), l.xk + 2, y(i)); });
}
