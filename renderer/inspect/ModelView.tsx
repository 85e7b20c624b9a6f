import { type RefObject, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { InspectOverview } from '../../common/inspect';
import { fromBase64 } from '../../common/inspect';
import { type HeadRef, gridLayout, gridRange, headOrder, hitGrid } from './attentionMath';
import { css, statRgb } from './colormap';
import { drawModelGrid, sizeCanvas, thumbAtlas } from './draw';
import { STAT_LABEL, type StatName, formatStat } from './stats';

export interface ModelViewProps {
  overview: InspectOverview;
  statistic: StatName;
  sorted: boolean;
  selected: HeadRef | null;
  onOpen(h: HeadRef): void;
  width: number;
  canvasRef: RefObject<HTMLCanvasElement | null>;
}

/** Every layer × head as a small heatmap, framed (or ordered) by a head statistic; a click opens the head. */
export function ModelView({ overview: o, statistic, sorted, selected, onOpen, width, canvasRef }: ModelViewProps) {
  const [hovered, setHovered] = useState<number | null>(null);
  const grid = o.stats[statistic];
  const order = useMemo(() => headOrder(o.layers, o.heads, grid, sorted), [o, grid, sorted]);
  const layout = useMemo(() => gridLayout(o.layers, o.heads, width - 16, sorted), [o.layers, o.heads, width, sorted]);
  const atlas = useMemo(() => thumbAtlas(fromBase64(o.thumbs), o.layers * o.heads, o.thumbSize, o.causal, o.T), [o]);
  const [lo, hi] = gridRange(grid);
  const frame = (h: HeadRef) => (grid ? css(statRgb(grid[h.layer][h.head], lo, hi)) : '#ccc');
  const frameRef = useRef(frame);
  frameRef.current = frame;

  useLayoutEffect(() => {
    const c = canvasRef.current;
    if (!c) return;
    const ctx = sizeCanvas(c, layout.width + 4, layout.height + 4);
    drawModelGrid(ctx, atlas, o.thumbSize, o.heads, order, layout, { frame: frameRef.current, selected, hovered });
  }, [atlas, order, layout, selected, hovered, o.thumbSize, o.heads, canvasRef, statistic]);

  const at = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return hitGrid(layout, e.clientX - r.left - 2, e.clientY - r.top - 2, order.length);
  };
  const h = hovered !== null ? order[hovered] : null;
  return (
    <div>
      <canvas ref={canvasRef} data-testid="model-grid" role="img" aria-label={`${o.layers} layers × ${o.heads} heads`}
        style={{ cursor: hovered !== null ? 'pointer' : 'default' }}
        onMouseMove={(e) => { const i = at(e); if (i !== hovered) setHovered(i); }}
        onMouseLeave={() => setHovered(null)}
        onClick={(e) => { const i = at(e); if (i !== null) onOpen(order[i]); }} />
      <div className="inspect-readout" data-testid="model-readout">
        {h ? `layer ${h.layer} head ${h.head}: ${STAT_LABEL[statistic]} ${grid ? formatStat(grid[h.layer][h.head]) : '—'}; largest block mean ${formatStat(o.thumbMax[h.layer][h.head])} — click to open`
          : grid ? `frames coloured by ${STAT_LABEL[statistic]}: blue ${formatStat(lo)} … red ${formatStat(hi)}${sorted ? '; sorted, largest first' : '; rows are layers, columns heads'}`
            : `${STAT_LABEL[statistic]} is not measured for this model`}
      </div>
    </div>
  );
}
