import type { PretrainConfig } from '../../common/pretrainConfig';

/**
 * The learning rate at iteration `it` (0-based): nanoGPT's get_lr, the formula of
 * engine/training/schedule.ts restated for the preview chart (the renderer may not import engine code).
 * Warmup is linear from lr/(warmup+1); cosine or linear decay to minLr at decaySteps; then minLr.
 */
export function learningRateAt(p: Pick<PretrainConfig, 'steps' | 'optimizer' | 'schedule'>, it: number): number {
  const { lr } = p.optimizer;
  const { kind, warmupSteps: warmup, minLr } = p.schedule;
  const decay = p.schedule.decaySteps ?? p.steps;
  if (it < warmup) return (lr * (it + 1)) / (warmup + 1);
  if (kind === 'constant') return lr;
  if (it > decay) return minLr;
  const ratio = decay > warmup ? (it - warmup) / (decay - warmup) : 1;
  const coeff = kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * ratio)) : 1 - ratio;
  return minLr + coeff * (lr - minLr);
}

/** About `points` samples of the schedule over the run, the last step included. */
export function scheduleCurve(p: Pick<PretrainConfig, 'steps' | 'optimizer' | 'schedule'>, points = 200): [number, number][] {
  const stride = Math.max(1, Math.floor(p.steps / points));
  const out: [number, number][] = [];
  for (let it = 0; it < p.steps; it += stride) out.push([it, learningRateAt(p, it)]);
  if (out[out.length - 1]?.[0] !== p.steps - 1) out.push([p.steps - 1, learningRateAt(p, p.steps - 1)]);
  return out;
}
