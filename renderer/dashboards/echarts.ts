/** The parts of ECharts the dashboards use, registered once, canvas renderer only (a smaller bundle). */
import { HeatmapChart, LineChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, HeatmapChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, VisualMapComponent, TitleComponent, CanvasRenderer]);

export { echarts };
export type EChart = echarts.ECharts;
