import type { HeadHistory } from '../../common/inspect';
import { STAT_LABEL, type StatName, formatStat } from './stats';

/** Polyline points of `values` against `steps` in a w×h box (nulls break nothing: they are skipped). */
export function curvePoints(steps: number[], values: (number | null)[], w: number, h: number): string {
  const xs = steps.filter((_, i) => values[i] !== null);
  const ys = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (!ys.length) return '';
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => (x1 > x0 ? ((x - x0) / (x1 - x0)) * w : w / 2);
  const sy = (y: number) => (y1 > y0 ? h - ((y - y0) / (y1 - y0)) * h : h / 2);
  return steps.flatMap((s, i) => { const v = values[i]; return v === null || !Number.isFinite(v) ? [] : [`${sx(s).toFixed(1)},${sy(v).toFixed(1)}`]; }).join(' ');
}

/** The chosen head's statistics over training (attention-stats.jsonl) beside the run's validation loss, a marker at the checkpoint shown. */
export function HeadCurves({ history, step, layer, head }: { history: HeadHistory | null; step: number | null; layer: number; head: number }) {
  if (!history) return <div className="muted">loading the head's statistics…</div>;
  if (!history.steps.length) return <div className="muted">This run has no head statistics over training (a pretraining run records them at every evaluation, in attention-stats.jsonl; an imported model has none).</div>;
  const W = 200, H = 60;
  const x0 = history.steps[0], x1 = history.steps[history.steps.length - 1];
  const mark = step === null || x1 === x0 ? null : ((Math.min(Math.max(step, x0), x1) - x0) / (x1 - x0)) * W;
  // the run's validation loss first, so that a head forming can be read against the loss bending
  const curves: [string, (number | null)[], string][] = [
    ...(history.valLoss?.some((v) => v !== null) ? [['validation loss', history.valLoss, '#b35c00'] as [string, (number | null)[], string]] : []),
    ...(Object.keys(history.series) as StatName[]).map((stat): [string, (number | null)[], string] => [STAT_LABEL[stat], history.series[stat]!, '#2f5fd0']),
  ];
  return (
    <div className="inspect-curves" data-testid="head-curves" aria-label={`statistics of layer ${layer} head ${head} over training`}>
      {curves.map(([label, values, colour]) => {
        const at = step === null ? -1 : history.steps.reduce((best, s, i) => (Math.abs(s - step) < Math.abs(history.steps[best] - step) ? i : best), 0);
        return (
          <div key={label} className="inspect-curve">
            <div><b>{label}</b> <span className="muted">{at >= 0 ? `${formatStat(values[at])} at step ${history.steps[at]}` : ''}</span></div>
            <svg viewBox={`-2 -4 ${W + 4} ${H + 8}`} preserveAspectRatio="none" role="img" aria-label={label}>
              <polyline points={curvePoints(history.steps, values, W, H)} fill="none" stroke={colour} strokeWidth="1.5" vectorEffect="non-scaling-stroke" />
              {mark !== null && <line x1={mark} x2={mark} y1={-4} y2={H + 4} stroke="#b00" strokeWidth="1" vectorEffect="non-scaling-stroke" />}
            </svg>
          </div>
        );
      })}
    </div>
  );
}
