import { useLayoutEffect, useMemo, useState } from 'react';
import { attentionLines, maskedKeys, summedAttention, toggleQuery } from './attentionMath';
import { drawLines, linesLayout, sizeCanvas } from './draw';
import type { MapViewProps } from './HeadView';
import { formatStat } from './stats';

/**
 * BertViz's lines: each query token on the left joined to the keys it attends to on the right, a line's
 * opacity its weight; a click on a left token selects it (Shift adds), and the right column shades each key
 * by the selected queries' summed attention; keys hidden from them are drawn grey, in italics.
 */
export function LinesView({ tokens, map, T, causal, queries, onQueries, segment, size, canvasRef }: MapViewProps) {
  const [hover, setHover] = useState<number | null>(null);
  const layout = useMemo(() => linesLayout(T, Math.max(420, Math.min(size, 720))), [T, size]);
  const shown = useMemo(() => (queries.length ? queries : hover !== null ? [hover] : []), [queries, hover]);
  const lines = useMemo(() => attentionLines(map, T, shown), [map, T, shown]);
  const summed = useMemo(() => summedAttention(map, T, shown), [map, T, shown]);
  const masked = useMemo(() => maskedKeys(causal, T, shown), [causal, T, shown]);

  useLayoutEffect(() => {
    const c = canvasRef.current;
    if (!c) return;
    drawLines(sizeCanvas(c, layout.width, layout.height), tokens, lines, summed, masked, shown, layout, segment);
  }, [tokens, lines, summed, masked, shown, layout, segment, canvasRef]);

  const rowAt = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const i = Math.floor((e.clientY - r.top - layout.pad) / layout.row);
    return i >= 0 && i < T && e.clientX - r.left < layout.xq + 8 ? i : null;
  };
  return (
    <div>
      <canvas ref={canvasRef} data-testid="lines-view" role="img" aria-label={`attention lines, ${T} tokens`}
        style={{ cursor: hover !== null ? 'pointer' : 'default' }}
        onMouseMove={(e) => setHover(rowAt(e))} onMouseLeave={() => setHover(null)}
        onClick={(e) => { const i = rowAt(e); if (i !== null) onQueries(toggleQuery(queries, i, e.shiftKey || e.ctrlKey || e.metaKey)); }} />
      <div className="inspect-readout" data-testid="lines-readout">
        {shown.length ? `${shown.map((q) => JSON.stringify(tokens[q])).join(' + ')} → strongest key ${JSON.stringify(tokens[summed.indexOf(Math.max(...summed))])} (${formatStat(Math.max(...summed))}); ${lines.length} lines of weight ≥ 0.02`
          : `all ${T} queries: ${lines.length} lines of weight ≥ 0.02. Hover a token on the left to follow it, click to select (Shift adds).`}
      </div>
    </div>
  );
}
