/**
 * Where a chart's title and legend go. Side by side on the top row while both fit the chart's width;
 * otherwise the legend moves to a row of its own under the title (scrolling sideways when it is still
 * too long), and the plot moves down to make room. A title wider than the chart ends in an ellipsis.
 * Nothing overlaps at any width.
 */
import { echarts } from './echarts';

export const TITLE_FONT = 'bold 13px sans-serif';
export const LEGEND_FONT = '11px sans-serif';
/** the plot's top edge with the legend beside the title, and with it on a row of its own */
export const GRID_TOP = { oneRow: 34, twoRows: 54 };

const PAD_LEFT = 8, PAD_RIGHT = 12, TITLE_GAP = 16;
// ECharts' legend: an icon of itemWidth, 5 px to its text, itemGap between entries
const ICON = 14, ICON_GAP = 5, ITEM_GAP = 10;

export type Measure = (text: string, font: string) => number;

/** text widths as ECharts itself measures them (its canvas, or its estimate where there is none) */
export const measureText: Measure = (text, font) => echarts.format.getTextRect(text, font).width;

export interface ChartHeader {
  rows: 1 | 2;
  title: object;
  legend: object;
  gridTop: number;
}

export function legendWidth(names: readonly string[], measure: Measure = measureText): number {
  if (names.length === 0) return 0;
  return names.reduce((w, n) => w + ICON + ICON_GAP + measure(n, LEGEND_FONT), 0) + ITEM_GAP * (names.length - 1);
}

/** The title, legend and plot top for a chart `width` px wide. */
export function chartHeader(width: number, title: string, legend: readonly string[], measure: Measure = measureText): ChartHeader {
  const titleW = measure(title, TITLE_FONT), legendW = legendWidth(legend, measure);
  const fits = PAD_LEFT + titleW + TITLE_GAP + legendW + PAD_RIGHT <= width;
  const rows = fits || legend.length === 0 ? 1 : 2;
  return {
    rows,
    title: {
      text: title, left: PAD_LEFT, top: 4,
      textStyle: { fontSize: 13, fontWeight: 600, width: Math.max(40, width - PAD_LEFT - PAD_RIGHT), overflow: 'truncate', ellipsis: '…' },
    },
    legend: {
      data: [...legend], type: 'scroll', itemWidth: ICON, itemGap: ITEM_GAP, textStyle: { fontSize: 11 },
      // left and right both given, always: options merge, and a side left over from the other layout
      // would stretch the legend (replacing the legend instead would forget which curves it hides)
      ...(rows === 1
        ? { top: 4, left: Math.max(PAD_LEFT + titleW + TITLE_GAP, width - PAD_RIGHT - legendW - 4), right: PAD_RIGHT }
        : { top: 26, left: PAD_LEFT, right: PAD_RIGHT }),
    },
    gridTop: rows === 1 ? GRID_TOP.oneRow : GRID_TOP.twoRows,
  };
}
