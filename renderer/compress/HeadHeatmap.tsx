import type { HeadDivergence } from '../../common/compare';
import { divergenceColor } from './compareData';

const CELL = 28;

/**
 * Per-head attention divergence of a variant against its base, layer × head: JS divergence in bits, white
 * (the base's pattern) to red (the largest shown); a removed head is crossed out. Rows are the variant's
 * layers, each labelled with the base layer it is compared with.
 */
export function HeadHeatmap({ heads, runId }: { heads: HeadDivergence; runId: string }) {
  const values = heads.js.flat().filter((v): v is number => v !== null);
  const max = Math.max(1e-6, ...values);
  const nHeads = Math.max(0, ...heads.js.map((r) => r.length));
  const left = 70, top = 18;
  return (
    <figure className="compare-heatmap" data-testid="head-heatmap">
      <svg width={left + nHeads * CELL + 8} height={top + heads.js.length * CELL + 6} role="img" aria-label={`attention divergence per head of ${runId}`}>
        {Array.from({ length: nHeads }, (_, h) => <text key={h} x={left + h * CELL + CELL / 2} y={12} fontSize={10} textAnchor="middle">h{h}</text>)}
        {heads.js.map((row, l) => (
          <g key={l}>
            <text x={left - 6} y={top + l * CELL + CELL / 2 + 3} fontSize={10} textAnchor="end">L{l}{heads.baseLayers[l] !== l ? ` ← L${heads.baseLayers[l]}` : ''}</text>
            {row.map((v, h) => (
              <g key={h}>
                <title>{v === null ? `layer ${l} head ${h}: removed` : `layer ${l} head ${h} vs base layer ${heads.baseLayers[l]}: JS ${v.toFixed(4)} bits`}</title>
                <rect x={left + h * CELL} y={top + l * CELL} width={CELL - 2} height={CELL - 2} fill={v === null ? '#eee' : divergenceColor(v, max)} stroke="#ccc" />
                {v === null && <path d={`M${left + h * CELL + 4},${top + l * CELL + 4}l${CELL - 10},${CELL - 10}m0,${-(CELL - 10)}l${-(CELL - 10)},${CELL - 10}`} stroke="#999" />}
              </g>
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="muted small">
        JS divergence (bits) of each head&apos;s attention, white = the base&apos;s pattern, {values.some((v) => v > 0) ? `darkest = ${max.toPrecision(2)}` : 'every head attends as the base\'s does'}; {heads.mapping}
      </figcaption>
    </figure>
  );
}
