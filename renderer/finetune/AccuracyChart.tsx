import { useEffect, useRef } from 'react';
import { LiveLineChart, metricsBuffer, type CurveSpec } from '../dashboards';

/**
 * Test accuracy and macro-F1 at each evaluation (val/accuracy, val/macro_f1 in metrics.jsonl), from the
 * dashboards' shared buffer: the figures a classifier is judged by, beside the loss the dashboard charts.
 */
export function AccuracyChart({ runIds, colors }: { runIds: string[]; colors: Record<string, string> }) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<LiveLineChart | null>(null);
  const multi = runIds.length > 1;
  const curves = runIds.flatMap((id): CurveSpec[] => [
    { runId: id, tag: 'val/accuracy', name: multi ? `${id} accuracy` : 'accuracy', color: colors[id] ?? '#1f77b4', markers: true },
    { runId: id, tag: 'val/macro_f1', name: multi ? `${id} macro-F1` : 'macro-F1', color: colors[id] ?? '#1f77b4', markers: true, dashed: true },
  ]);
  const options = { title: 'test accuracy and macro-F1', curves, x: 'step' as const, smoothing: 0, logY: false, emptyText: 'no evaluation yet' };
  useEffect(() => {
    const c = new LiveLineChart(ref.current!, metricsBuffer, options);
    chart.current = c;
    const unsubscribe = metricsBuffer.subscribe((changed) => c.update(changed));
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(ref.current!);
    return () => { unsubscribe(); ro.disconnect(); c.dispose(); chart.current = null; };
  }, []);
  useEffect(() => { chart.current?.setOptions(options); }, [runIds.join('|'), JSON.stringify(colors)]);
  return <div ref={ref} className="accuracy-chart" data-testid="chart-accuracy" />;
}
