import { SVGRenderer } from 'echarts/renderers';
import { chartHeader, GRID_TOP, legendWidth, type Measure } from './chartHeader';
import { echarts } from './echarts';
import { LiveLineChart } from './lineChart';
import { MetricsBuffer } from './metricsBuffer';
import { equal, ok, test } from './testing';

echarts.use([SVGRenderer]);

// 7 px a character for the title, 6 for legend entries: the layout's arithmetic, free of font metrics
const fixed: Measure = (text, font) => text.length * (font.startsWith('bold') ? 7 : 6);

test('the legend sits beside the title while both fit, and on a row of its own when they do not', () => {
  const names = ['grad/global_norm'];
  // 8 + 140 + 16 + (14 + 5 + 96) + 12 = 291 px
  equal(legendWidth(names, fixed), 115);
  const wide = chartHeader(291, 'global gradient norm', names, fixed);
  equal(wide.rows, 1);
  equal(wide.gridTop, GRID_TOP.oneRow);
  const narrow = chartHeader(290, 'global gradient norm', names, fixed);
  equal(narrow.rows, 2);
  equal(narrow.gridTop, GRID_TOP.twoRows);
  const l = narrow.legend as { top: number; left: number; right: number };
  ok(l.top >= 4 + 13 + 6, `the legend row starts below the title: top ${l.top}`);
  // no legend, no second row; the title is clipped with an ellipsis rather than run out of the chart
  const none = chartHeader(100, 'global gradient norm', [], fixed);
  equal(none.rows, 1);
  equal((none.title as { textStyle: { overflow: string } }).textStyle.overflow, 'truncate');
});

test('beside the title, the legend starts after it, whatever the layout was before', () => {
  const h = chartHeader(600, 'loss', ['train', 'validation'], fixed);
  const l = h.legend as { left: number; right: number };
  ok(l.left >= 8 + 28 + 16, `legend left ${l.left} clears the title`);
  ok(l.right === 12 && 600 - l.left - l.right >= legendWidth(['train', 'validation'], fixed), 'the box holds the legend');
});

/** the drawn texts of an SVG: their text and where they start (zrender writes a translate plus x, y) */
function texts(svg: string): { text: string; x: number; y: number }[] {
  return [...svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)].map((m) => {
    const t = /translate\(([-\d.]+) ([-\d.]+)\)/.exec(m[1]);
    const attr = (name: string) => Number(new RegExp(`\\s${name}="([-\\d.]+)"`).exec(m[1])?.[1] ?? 0);
    return { text: m[2], x: (t ? Number(t[1]) : 0) + attr('x'), y: (t ? Number(t[2]) : 0) + attr('y') };
  });
}

for (const width of [320, 450, 700]) {
  test(`at ${width} px the "global gradient norm" title and its legend do not overlap`, () => {
    const buffer = new MetricsBuffer({ schedule: () => {} });
    buffer.ingestMetrics('a', Array.from({ length: 50 }, (_, i) => ({ step: i + 1, wallTime: i, tokens: i, scalars: { 'grad/global_norm': 1 + i / 50 } })));
    buffer.ingestMetrics('b', Array.from({ length: 50 }, (_, i) => ({ step: i + 1, wallTime: i, tokens: i, scalars: { 'grad/global_norm': 2 - i / 50 } })));
    const chart = echarts.init(null as unknown as HTMLElement, undefined, { renderer: 'svg', ssr: true, width, height: 240 });
    const line = new LiveLineChart(chart, buffer, {
      title: 'global gradient norm', x: 'step', smoothing: 0, logY: true,
      curves: [{ runId: 'a', tag: 'grad/global_norm', name: '20261125-105052-vbnq', color: '#1f77b4' }, { runId: 'b', tag: 'grad/global_norm', name: '20261125-105102-ps1w', color: '#ff7f0e' }],
    });
    try {
      chart.setOption({}); // runs now the update left for the next frame
      const all = texts(chart.renderToSVGString());
      const title = all.find((t) => t.text === 'global gradient norm');
      ok(title, 'the title is drawn whole');
      const titleRight = title.x + echarts.format.getTextRect(title.text, 'bold 13px sans-serif').width;
      const entries = all.filter((t) => t.text.startsWith('2026'));
      ok(entries.length >= 1, `legend entries drawn: ${all.map((t) => t.text).join(' | ')}`);
      for (const e of entries) ok(e.x >= titleRight || e.y >= title.y + 14, `legend entry at (${e.x}, ${e.y}) clears the title ending at (${titleRight}, ${title.y})`);
    } finally { line.dispose(); }
  });
}
