import { compact } from '../lib/format';

/** Bars for `counts`, bucket i spanning (bounds[i-1], bounds[i]]; an SVG sized by its container. */
export function Histogram({ bounds, counts, height = 140 }: { bounds: number[]; counts: number[]; height?: number }) {
  const W = 420, H = height, padL = 34, padB = 22, padT = 8;
  const max = Math.max(1, ...counts);
  const n = counts.length || 1;
  const bw = (W - padL - 4) / n;
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="histogram of document lengths">
      <line x1={padL} y1={H - padB} x2={W - 4} y2={H - padB} className="axis" />
      <text x={padL - 4} y={padT + 8} className="tick" textAnchor="end">{compact(max)}</text>
      <text x={padL - 4} y={H - padB} className="tick" textAnchor="end">0</text>
      {counts.map((c, i) => {
        const h = ((H - padB - padT) * c) / max;
        return (
          <g key={i}>
            <rect x={padL + i * bw + 1} y={H - padB - h} width={Math.max(1, bw - 2)} height={h} className="bar"><title>{`≤ ${bounds[i]} tokens: ${c} documents`}</title></rect>
            {(i % Math.ceil(n / 6) === 0 || i === n - 1) && <text x={padL + (i + 0.5) * bw} y={H - 6} className="tick" textAnchor="middle">{compact(bounds[i])}</text>}
          </g>
        );
      })}
    </svg>
  );
}
