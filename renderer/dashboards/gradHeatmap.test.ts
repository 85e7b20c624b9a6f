import { SVGRenderer } from 'echarts/renderers';
import type { MetricsPoint } from '../../common/workbenchApi';
import { echarts } from './echarts';
import { GradHeatmap, heatmapCells, stepLabels } from './gradHeatmap';
import { MetricsBuffer } from './metricsBuffer';
import { deepEqual, equal, ok, test } from './testing';

echarts.use([SVGRenderer]);

function run(steps: number): MetricsBuffer {
  const b = new MetricsBuffer({ schedule: () => {} });
  const points: MetricsPoint[] = [];
  for (let s = 1; s <= steps; s++) points.push({ step: s, wallTime: s, tokens: s, scalars: { 'grad_norm/embeddings': 0.1, 'grad_norm/layer.0': 1 + 1 / s, 'grad_norm/head': 0.5 } });
  b.ingestMetrics('r', points);
  return b;
}

const shown = (labels: string[]) => labels.map((l, i) => [i, l] as const).filter(([, l]) => l !== '');

test('heatmap columns are labelled at round steps, and at the first and last step', () => {
  const h = heatmapCells(run(1200), 'r', 200);
  equal(h.columnWidth, 6);
  equal(h.lastStep, 1200);
  const labels = stepLabels(h.columnSteps, h.columnWidth, h.lastStep);
  deepEqual(shown(labels).map(([, l]) => l), ['1', '200', '400', '600', '800', '1k', '1.2k']);
  // each round label sits on the column whose steps hold it
  for (const [c, l] of shown(labels).slice(1, -1)) {
    const v = Number(l.replace('k', 'e3'));
    ok(h.columnSteps[c] <= v && v < h.columnSteps[c] + h.columnWidth, `${l} on column ${c} (steps ${h.columnSteps[c]}…)`);
  }
});

test('heatmap labels: a last step near a round one keeps its own label, and short runs label every few steps', () => {
  // a run stopped at 1,050: 1k is too near the end to be labelled beside it
  deepEqual(shown(stepLabels(Array.from({ length: 175 }, (_, i) => 1 + 6 * i), 6, 1050)).map(([, l]) => l), ['1', '200', '400', '600', '800', '1.05k']);
  // 30 steps, one column each: 1, 5, 10, …, 30
  deepEqual(shown(stepLabels(Array.from({ length: 30 }, (_, i) => 1 + i), 1, 30)).map(([, l]) => l), ['1', '5', '10', '15', '20', '25', '30']);
  deepEqual(stepLabels([7], 1, 7), ['7']);
  deepEqual(stepLabels([], 1, 0), []);
});

test('the heatmap chart draws those labels and no odd column steps', () => {
  const chart = echarts.init(null as unknown as HTMLElement, undefined, { renderer: 'svg', ssr: true, width: 1200, height: 300 });
  const heat = new GradHeatmap(chart, run(1200), 'r');
  try {
    chart.setOption({}); // runs now the update that the chart's lazy setOption left for the next frame
    const svg = chart.renderToSVGString();
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const l of ['1', '200', '400', '600', '800', '1k', '1.2k']) ok(texts.includes(l), `label ${l} drawn: ${texts.join(' | ')}`);
    for (const odd of ['52', '103', '155']) ok(!texts.includes(odd), `no label ${odd}`);
  } finally { heat.dispose(); }
});
