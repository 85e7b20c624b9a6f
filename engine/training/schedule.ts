/**
 * Learning-rate schedules: the value for iteration `it` (0-based), pure functions of plain config.
 * Warmup is linear from lr/(warmup+1) to lr·warmup/(warmup+1), as nanoGPT's get_lr, so the first step
 * never runs at lr = 0. Reference: ../shared/reference/gen_golden.py `optim`.
 */

export type LrSchedule =
  /** nanoGPT: warmup, then half a cosine from lr down to minLr at decayIters, then minLr */
  | { kind: 'cosine'; lr: number; minLr: number; warmupIters: number; decayIters: number }
  /** warmup, then a straight line from lr down to minLr at decayIters, then minLr */
  | { kind: 'linear'; lr: number; minLr: number; warmupIters: number; decayIters: number }
  /** warmup (optional), then lr */
  | { kind: 'constant'; lr: number; warmupIters?: number };

export function learningRate(s: LrSchedule, it: number): number {
  const warmup = s.warmupIters ?? 0;
  if (it < warmup) return (s.lr * (it + 1)) / (warmup + 1);
  if (s.kind === 'constant') return s.lr;
  if (it > s.decayIters) return s.minLr;
  // a decay span of zero (decayIters = warmupIters) means the decay is already over
  const ratio = s.decayIters > warmup ? (it - warmup) / (s.decayIters - warmup) : 1;
  const coeff = s.kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * ratio)) : 1 - ratio;
  return s.minLr + coeff * (s.lr - s.minLr);
}
