/**
 * The dashboards bench page: a 100,000-point past run, then (a) programmatic pan and zoom and (b) a live
 * run streamed at ~1000 points/s in batches of 100, each while frame times are recorded with
 * requestAnimationFrame. scripts/bench-ui.mjs builds, serves and drives it; `window.bench` is its handle.
 */
import { createRoot } from 'react-dom/client';
import { MetricsBuffer, RunDashboard, type DashboardCharts } from '../index';
import { liveBatches, pastRun, type SimRun } from './simulate';

const PAST: SimRun = { totalSteps: 100_000, lr: 6e-4, seed: 7, tokensPerStep: 8192, floor: 2.9 };
const LIVE: SimRun = { totalSteps: 100_000, lr: 1e-3, seed: 11, tokensPerStep: 8192, floor: 2.8 };
const CONFIGS = {
  past: { model: { layers: 12, heads: 12, dModel: 768 }, optimizer: { lr: PAST.lr, betas: [0.9, 0.95], weightDecay: 0.1 }, schedule: { kind: 'cosine', warmupSteps: 2000 }, batchSize: 16, seed: 7 },
  live: { model: { layers: 12, heads: 12, dModel: 768 }, optimizer: { lr: LIVE.lr, betas: [0.9, 0.99], weightDecay: 0.1 }, schedule: { kind: 'cosine', warmupSteps: 2000 }, batchSize: 16, seed: 11 },
};

const buffer = new MetricsBuffer();
buffer.ingestMetrics('past', pastRun(PAST, 100_000));
buffer.ingestRunEvents('past', [{ type: 'status', status: 'completed', runId: 'past', runDir: '/runs/past' }]);

export interface FrameStats { frames: number; p50: number; p95: number; max: number; droppedShare: number; seconds: number }

/** rAF deltas over `ms`; a frame "dropped" for each missed 60 Hz vsync (a 50 ms delta misses two) */
function recordFrames(ms: number, onFrame?: (t: number) => void): Promise<FrameStats> {
  return new Promise((resolve) => {
    const deltas: number[] = [];
    let start = 0, prev = 0;
    const tick = (t: number) => {
      if (!start) { start = prev = t; } else { deltas.push(t - prev); prev = t; }
      onFrame?.(t - start);
      if (t - start < ms) requestAnimationFrame(tick);
      else {
        const sorted = [...deltas].sort((a, b) => a - b);
        const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
        const vsync = 1000 / 60;
        const missed = deltas.reduce((s, d) => s + Math.max(0, Math.round(d / vsync) - 1), 0);
        const expected = deltas.reduce((s, d) => s + Math.max(1, Math.round(d / vsync)), 0);
        resolve({ frames: deltas.length, p50: q(0.5), p95: q(0.95), max: sorted[sorted.length - 1], droppedShare: missed / expected, seconds: (t - start) / 1000 });
      }
    };
    requestAnimationFrame(tick);
  });
}

let charts: DashboardCharts | null = null;

const bench = {
  ready: false,
  points: () => buffer.series('past', 'train/loss')?.length ?? 0,
  charts: () => charts,
  /** wraps each chart's update to add up the milliseconds it takes (rendering included: updates are not lazy) */
  timeUpdates: () => {
    const totals: Record<string, { n: number; ms: number; max: number }> = {};
    for (const [name, c] of Object.entries(charts!)) {
      const orig = c.update.bind(c);
      totals[name] = { n: 0, ms: 0, max: 0 };
      c.update = (ch?: ReadonlySet<string>) => { const t = performance.now(); orig(ch); const d = performance.now() - t; const s = totals[name]; s.n += 1; s.ms += d; s.max = Math.max(s.max, d); };
    }
    return totals;
  },
  /** zooms in from the whole run to 0.5 % of it while panning across, then back out */
  panZoom: (ms: number) => {
    const loss = charts!.loss;
    return recordFrames(ms, (t) => {
      const u = (t % ms) / ms;
      const width = 100_000 * Math.pow(0.005, Math.sin(Math.PI * u));
      const centre = 5_000 + 90_000 * u;
      const a = Math.max(1, centre - width / 2), b = Math.min(100_000, a + width);
      loss.chart.dispatchAction({ type: 'dataZoom', startValue: a, endValue: b });
    }).then((s) => { loss.zoomTo(null); return s; });
  },
  /** streams the live run at `perSecond` points in batches of `batch` */
  stream: (ms: number, perSecond = 1000, batch = 100) => {
    const gen = liveBatches(LIVE, batch);
    let sent = 0;
    const frames = recordFrames(ms, (t) => {
      while (sent * 1000 < t * perSecond) { buffer.ingestRunEvents('live', gen.next().value as never); sent += batch; }
    });
    return frames.then((s) => ({ ...s, points: sent }));
  },
};
(window as unknown as { bench: typeof bench }).bench = bench;

createRoot(document.getElementById('root')!).render(
  <RunDashboard runIds={['past', 'live']} buffer={buffer} configs={CONFIGS} runLabels={{ past: 'lr 6e-4', live: 'lr 1e-3' }}
    onCharts={(c) => { charts = c; setTimeout(() => { bench.ready = true; }, 500); }} />,
);
