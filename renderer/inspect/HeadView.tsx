import { type RefObject, useLayoutEffect, useMemo, useState } from 'react';
import { isMasked, summedAttention, toggleQuery } from './attentionMath';
import { heatRgb, css } from './colormap';
import { drawHead, headLayout, headPicture, sizeCanvas } from './draw';
import { formatStat } from './stats';

export interface MapViewProps {
  tokens: string[];
  /** [query][key], T×T */
  map: Float32Array;
  T: number;
  causal: boolean;
  queries: number[];
  onQueries(q: number[]): void;
  /** token type per position (a BERT pair's second segment is 1) */
  segment?: number[];
  size: number;
  canvasRef: RefObject<HTMLCanvasElement | null>;
}

const STRIP = 14;

/**
 * One head token by token: queries down, keys across, each cell the attention weight (scaled to the
 * map's largest), masked cells grey; hover reads a cell out, a click selects a query row (Shift or Ctrl
 * adds to the selection) and the strip below sums the selected rows.
 */
export function HeadView({ tokens, map, T, causal, queries, onQueries, segment, size, canvasRef }: MapViewProps) {
  const [hover, setHover] = useState<{ q: number; k: number } | null>(null);
  const layout = useMemo(() => headLayout(T, size), [T, size]);
  const picture = useMemo(() => headPicture(map, T, causal), [map, T, causal]);
  const summed = useMemo(() => summedAttention(map, T, queries), [map, T, queries]);
  const side = layout.T * layout.cell;

  useLayoutEffect(() => {
    const c = canvasRef.current;
    if (!c) return;
    const ctx = sizeCanvas(c, layout.left + side + 8, layout.top + side + STRIP + 22);
    drawHead(ctx, picture.canvas, tokens, layout, queries, segment);
    // the summed strip: what the selected queries (or all, as a mean) attend to
    let top = 0;
    for (const v of summed) top = Math.max(top, v);
    const y = layout.top + side + 8;
    for (let k = 0; k < T; k++) {
      ctx.fillStyle = css(heatRgb(top > 0 ? summed[k] / top : 0));
      ctx.fillRect(layout.left + k * layout.cell, y, Math.max(1, layout.cell), STRIP);
    }
    ctx.fillStyle = '#555';
    ctx.font = '11px ui-sans-serif, system-ui, sans-serif';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText(queries.length ? `Σ ${queries.length} quer${queries.length > 1 ? 'ies' : 'y'}` : 'mean', layout.left - 4, y + STRIP / 2);
    ctx.textAlign = 'left';
  }, [picture, tokens, layout, queries, segment, summed, side, T, canvasRef]);

  const cellAt = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - r.left - layout.left, y = e.clientY - r.top - layout.top;
    const q = Math.floor(y / layout.cell), k = Math.floor(x / layout.cell);
    return { q: q >= 0 && q < T ? q : -1, k: k >= 0 && k < T ? k : -1, x };
  };
  const read = hover && hover.q >= 0
    ? hover.k >= 0
      ? `query ${hover.q} ${JSON.stringify(tokens[hover.q])} → key ${hover.k} ${JSON.stringify(tokens[hover.k])}: ${isMasked(causal, hover.q, hover.k) ? 'masked (a causal model does not see later tokens)' : formatStat(map[hover.q * T + hover.k])}`
      : `query ${hover.q} ${JSON.stringify(tokens[hover.q])} — click to select its row`
    : hover && hover.k >= 0 ? `key ${hover.k} ${JSON.stringify(tokens[hover.k])}: ${queries.length ? 'summed' : 'mean'} attention ${formatStat(summed[hover.k])}`
      : `scale: white 0 … dark blue ${formatStat(picture.max)}; grey: masked. Click a row to select a query, Shift+click to add more.`;
  return (
    <div>
      <canvas ref={canvasRef} data-testid="head-map" role="img" aria-label={`attention map, ${T} tokens`}
        onMouseMove={(e) => { const c = cellAt(e); setHover(c.q < 0 && c.k < 0 ? null : { q: c.q, k: c.k }); }}
        onMouseLeave={() => setHover(null)}
        onClick={(e) => { const c = cellAt(e); if (c.q >= 0) onQueries(toggleQuery(queries, c.q, e.shiftKey || e.ctrlKey || e.metaKey)); }} />
      <div className="inspect-readout" data-testid="head-readout">{read}</div>
    </div>
  );
}
