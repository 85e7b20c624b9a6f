import { SVGRenderer } from 'echarts/renderers';
import type { RunEvent } from '../../common/runEvents';
import type { MetricsPoint } from '../../common/workbenchApi';
import { echarts } from './echarts';
import { LiveLineChart, type CurveSpec, type LineChartOptions } from './lineChart';
import { MetricsBuffer } from './metricsBuffer';
import { close, equal, ok, test } from './testing';

// a server-side chart (no DOM): what the line chart hands ECharts can be read back with getOption
echarts.use([SVGRenderer]);
const ssrChart = (width = 600, height = 240) => echarts.init(null as unknown as HTMLElement, undefined, { renderer: 'svg', ssr: true, width, height });

const T0 = 1_750_000_000;
const curves = (runId: string): CurveSpec[] => [
  { runId, tag: 'train/loss', name: 'train', color: '#1f77b4' },
  { runId, tag: 'val/loss', name: 'validation', color: '#d62728', markers: true },
];
const wallOptions = (runId: string): LineChartOptions => ({ title: 'loss', curves: curves(runId), x: 'wall', smoothing: 0, logY: false });

/** the [x, y] pairs of the series with this id, as the chart last set them */
function pointsOf(chart: LiveLineChart, id: string): [number, number][] {
  const series = (chart.chart.getOption() as { series: { id: string; data: ArrayLike<number> }[] }).series;
  const s = series.find((x) => x.id === id);
  ok(s, `a series ${id}`);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < s.data.length; i += 2) out.push([s.data[i], s.data[i + 1]]);
  return out;
}

/** metrics.jsonl of steps [from, to]: train loss every step (0.5 s apart), validation every 50 */
function history(from: number, to: number, t0 = T0): MetricsPoint[] {
  const out: MetricsPoint[] = [];
  for (let s = from; s <= to; s++) out.push({ step: s, wallTime: t0 + 0.5 * s, tokens: 64 * s, scalars: { 'train/loss': 4 - s / 100, ...(s % 50 === 0 ? { 'val/loss': 4.1 - s / 100 } : {}) } });
  return out;
}

test('wall time: every series of a run counts from the run\'s start, validation included', () => {
  const buffer = new MetricsBuffer({ schedule: () => {} });
  buffer.ingestMetrics('r', history(1, 100));
  const chart = new LiveLineChart(ssrChart(), buffer, wallOptions('r'));
  try {
    const train = pointsOf(chart, 'r|train/loss'), val = pointsOf(chart, 'r|val/loss');
    // without a recorded start, the run's first point (train loss, step 1) is 0 s
    close(train[0][0], 0);
    // validation at step 50 happened 24.5 s after step 1, and is drawn there, not at 0 s beside it
    close(val[0][0], 24.5);
    close(val[1][0], 49.5);
  } finally { chart.dispose(); }
});

test('wall time: a recorded start is the origin, and a resumed run\'s time continues from it', () => {
  const buffer = new MetricsBuffer({ schedule: () => {} });
  // run.json's created: 3 s before the first step
  buffer.setRunStart('r', T0 - 2.5);
  // resumed from step 60, an hour later: only the live events since the resume are here yet
  const resumedAt = T0 + 3600;
  const events: RunEvent[] = [];
  for (let s = 61; s <= 100; s++) events.push({ type: 'step', step: s, totalSteps: 100, tokens: 64 * s, etaSeconds: 1, scalars: { 'train/loss': 4 - s / 100, 'progress/elapsed_s': 0.5 * s } });
  buffer.ingestRunEvents('r', events, resumedAt + 20);
  const chart = new LiveLineChart(ssrChart(), buffer, wallOptions('r'));
  try {
    const train = pointsOf(chart, 'r|train/loss');
    // step 100 arrived at resumedAt + 20; step 61 19.5 s before it: not 0 s, but an hour after the start
    close(train[0][0], 3600 + 0.5 + 2.5, 1e-9);
    close(train[train.length - 1][0], 3600 + 20 + 2.5, 1e-9);
    // the history before the resume arrives: it keeps its own times, and the origin stays put
    buffer.ingestMetrics('r', history(1, 60));
    chart.update(new Set(['r']));
    const all = pointsOf(chart, 'r|train/loss');
    close(all[0][0], 3, 1e-9);
    equal(all.length, 100);
    ok(all.every((p, i) => i === 0 || p[0] > all[i - 1][0]), 'time never runs backwards across the resume');
  } finally { chart.dispose(); }
});

test('wall time: with no recorded start, a series that starts later keeps its offset from the run\'s first point', () => {
  const buffer = new MetricsBuffer({ schedule: () => {} });
  // only validation so far for one run (history of evaluations), train loss from step 1 for the run
  buffer.ingestMetrics('r', history(1, 100).map((p) => (p.step < 40 ? { ...p, scalars: { 'train/loss': p.scalars['train/loss'] } } : p)));
  const chart = new LiveLineChart(ssrChart(), buffer, { ...wallOptions('r'), curves: curves('r').slice(1) });
  try {
    // the chart shows validation alone, yet counts from the train loss's first point
    close(pointsOf(chart, 'r|val/loss')[0][0], 24.5);
  } finally { chart.dispose(); }
});
