/**
 * A believable pretraining run, synthetic and seeded: loss decaying from ln(vocab) with noise and a few
 * spikes, warmup + cosine learning rate, per-layer gradient norms (embeddings small, early layers larger),
 * throughput with jitter, validation every 500 steps. Used by the bench page only.
 */
import type { RunEvent } from '../../../common/runEvents';
import type { MetricsPoint } from '../../../common/workbenchApi';

export const LAYERS = ['embeddings', ...Array.from({ length: 12 }, (_, i) => `layer.${i}`), 'head'];

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32; };
}

export interface SimRun { totalSteps: number; lr: number; seed: number; tokensPerStep: number; floor: number }

export function scalarsAt(r: SimRun, step: number, rand: () => number): Record<string, number> {
  const warm = 2000;
  const lr = step < warm ? (r.lr * step) / warm : r.lr * 0.5 * (1 + Math.cos((Math.PI * (step - warm)) / (r.totalSteps - warm)));
  const progress = step / r.totalSteps;
  const spike = rand() < 0.0004 ? 1 + 3 * rand() : 0;
  const loss = r.floor + (10.8 - r.floor) * Math.exp(-step / 1500) + 0.9 * Math.exp(-step / 25000) + 0.12 * (rand() - 0.5) + spike;
  const s: Record<string, number> = {
    'train/loss': loss,
    'train/lr': lr,
    'perf/tokens_per_s': 52000 + 3000 * (rand() - 0.5) - (rand() < 0.01 ? 20000 : 0),
  };
  let sq = 0;
  LAYERS.forEach((l, i) => {
    const depth = l === 'embeddings' ? 0.05 : l === 'head' ? 0.8 : 1.4 - i * 0.06;
    const n = depth * (0.3 + 2.5 * Math.exp(-step / 3000)) * (1 + 0.25 * (rand() - 0.5)) * (1 + spike * 4) * (1 - 0.5 * progress);
    s[`grad_norm/${l}`] = n;
    sq += n * n;
  });
  s['grad/global_norm'] = Math.sqrt(sq);
  if (step % 500 === 0) s['val/loss'] = loss - spike + 0.08 + 0.05 * progress;
  return s;
}

/** a finished run's metrics.jsonl, as runs.metrics returns it */
export function pastRun(r: SimRun, steps: number): MetricsPoint[] {
  const rand = rng(r.seed);
  const t0 = 1_750_000_000;
  return Array.from({ length: steps }, (_, i) => ({ step: i + 1, wallTime: t0 + (i + 1) * 0.16, tokens: (i + 1) * r.tokensPerStep, scalars: scalarsAt(r, i + 1, rand) }));
}

/** a live run's events, a batch at a time */
export function* liveBatches(r: SimRun, batch: number): Generator<RunEvent[]> {
  const rand = rng(r.seed);
  let step = 0;
  for (;;) {
    const events: RunEvent[] = [];
    for (let k = 0; k < batch; k++) {
      step += 1;
      const scalars: Record<string, number> = { ...scalarsAt(r, step, rand), 'progress/elapsed_s': step * 0.001 };
      if (step % 500 === 0) events.push({ type: 'eval', step, train: { loss: scalars['train/loss'], perplexity: Math.exp(scalars['train/loss']) }, val: { loss: scalars['val/loss'], perplexity: Math.exp(scalars['val/loss']) } });
      events.push({ type: 'step', step, totalSteps: r.totalSteps, tokens: step * r.tokensPerStep, scalars, etaSeconds: (r.totalSteps - step) * 0.001 });
      if (step === 3000) events.push({ type: 'diagnostic', diagnostic: { kind: 'exploding-gradients', severity: 'warning', step, message: 'The global gradient norm jumped to 14× its recent median.', advice: 'Lower the learning rate, lengthen warmup, or set clipNorm to 1.0.' } });
    }
    yield events;
  }
}
