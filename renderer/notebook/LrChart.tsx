import type { PretrainConfig } from '../../common/pretrainConfig';
import { scheduleCurve } from '../lib/schedule';

/** The learning rate over the run, as the trainer will set it (nanoGPT's get_lr), in a small SVG. */
export function LrChart({ config }: { config: PretrainConfig }) {
  const pts = scheduleCurve(config, 160);
  const W = 300, H = 120, padL = 46, padR = 8, padT = 10, padB = 22;
  const maxX = Math.max(1, config.steps - 1);
  const maxY = Math.max(config.optimizer.lr, ...pts.map((p) => p[1])) || 1;
  const sx = (v: number) => padL + ((W - padL - padR) * v) / maxX;
  const sy = (v: number) => H - padB - ((H - padB - padT) * v) / maxY;
  const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
  const warm = config.schedule.warmupSteps;
  const fmt = (v: number) => (v === 0 ? '0' : v.toExponential(0).replace('e-', 'e−'));
  return (
    <figure className="lr-chart">
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="learning-rate schedule">
        <line x1={padL} y1={H - padB} x2={W - padR} y2={H - padB} className="axis" />
        <line x1={padL} y1={padT} x2={padL} y2={H - padB} className="axis" />
        {warm > 0 && warm < maxX && <line x1={sx(warm)} y1={padT} x2={sx(warm)} y2={H - padB} className="guide" />}
        <path d={`${d}L${sx(pts[pts.length - 1][0])},${H - padB}L${padL},${H - padB}Z`} className="area" />
        <path d={d} className="line" />
        <text x={padL - 4} y={sy(maxY) + 4} className="tick" textAnchor="end">{fmt(maxY)}</text>
        <text x={padL - 4} y={sy(config.schedule.minLr) + 4} className="tick" textAnchor="end">{config.schedule.kind === 'constant' ? '' : fmt(config.schedule.minLr)}</text>
        <text x={padL} y={H - 6} className="tick">0</text>
        <text x={W - padR} y={H - 6} className="tick" textAnchor="end">{config.steps} steps</text>
        {/* at the foot of the warmup line, on the side away from the rising curve (where the decay leaves room) */}
        {warm > 0 && warm < maxX && (sx(warm) < W - padR - 60
          ? <text x={sx(warm) + 4} y={H - padB - 4} className="tick">warmup {warm}</text>
          : <text x={sx(warm) - 4} y={H - padB - 4} className="tick" textAnchor="end">warmup {warm}</text>)}
      </svg>
      <figcaption className="muted small">learning rate: {config.schedule.kind}{config.schedule.kind !== 'constant' ? `, ${fmt(config.optimizer.lr)} → ${fmt(config.schedule.minLr)}` : ''}</figcaption>
    </figure>
  );
}
