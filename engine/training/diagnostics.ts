/**
 * Watches a run's numbers and says, in plain words, when something is going wrong and what to try:
 * non-finite loss (the run stops), exploding gradients, vanishing gradients in a layer, and overfitting
 * (validation loss rising while training loss falls over several evaluations). Pure: fed numbers, returns
 * findings; the trainer turns them into events. Each kind speaks at most once per `cooldown` steps.
 */
import type { Diagnostic, DiagnosticKind } from '../../common/runEvents';
export type { Diagnostic, DiagnosticKind };

export interface DiagnosticsOptions {
  /** a global gradient norm this many times the recent median counts as an explosion */
  explodeFactor?: number;
  /** a layer whose gradient norm is below this fraction of the median layer's is vanishing */
  vanishFactor?: number;
  /** consecutive evaluations of rising validation loss (with falling training loss) that mean overfitting */
  overfitEvals?: number;
  cooldown?: number;
}

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

export class Diagnostics {
  private readonly norms: number[] = [];
  private readonly evals: { train: number; val: number }[] = [];
  private readonly lastSaid = new Map<DiagnosticKind, number>();
  private readonly o: Required<DiagnosticsOptions>;

  constructor(opts: DiagnosticsOptions = {}) {
    this.o = { explodeFactor: 10, vanishFactor: 1e-4, overfitEvals: 3, cooldown: 200, ...opts };
  }

  /** After each step: its loss, global gradient norm (before clipping) and per-layer gradient norms. */
  step(step: number, loss: number, gradNorm: number, layerNorms?: Record<string, number>): Diagnostic[] {
    const out: Diagnostic[] = [];
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      out.push({
        kind: 'non-finite-loss', severity: 'error', step,
        message: `The ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} became ${Number.isFinite(loss) ? gradNorm : loss} at step ${step}; the run stopped before this step changed any weight, and its last checkpoint is intact.`,
        advice: 'Lower the learning rate (or lengthen warmup), keep gradient clipping on (clipNorm 1), and resume from the last checkpoint.',
      });
      return out; // nothing else is meaningful once the numbers are gone
    }
    const recent = this.norms.slice(-100);
    if (recent.length >= 20) {
      const m = median(recent);
      if (gradNorm > this.o.explodeFactor * m && this.quiet('exploding-gradients', step)) {
        out.push({
          kind: 'exploding-gradients', severity: 'warning', step,
          message: `The gradient norm jumped to ${gradNorm.toPrecision(3)} at step ${step}, ${(gradNorm / m).toFixed(0)}× its recent median of ${m.toPrecision(3)}.`,
          advice: 'Lower the learning rate, enable or tighten clipping (clipNorm), or lengthen warmup; a spike that repeats often precedes divergence.',
        });
      }
    }
    this.norms.push(gradNorm);
    if (layerNorms) {
      const values = Object.values(layerNorms);
      const m = median(values);
      const dead = Object.entries(layerNorms).filter(([, n]) => n < this.o.vanishFactor * m || n === 0);
      if (dead.length && m > 0 && this.quiet('vanishing-gradients', step)) {
        out.push({
          kind: 'vanishing-gradients', severity: 'warning', step,
          message: `Almost no gradient reaches ${dead.map(([l]) => l).join(', ')} at step ${step} (${dead.map(([, n]) => n.toExponential(1)).join(', ')}; the median layer gets ${m.toExponential(1)}).`,
          advice: 'Check the initialisation scale (initStd), prefer pre-LN (gpt) for deep stacks, lower weight decay, or use fewer layers; a layer that does not learn is dead weight.',
        });
      }
    }
    return out;
  }

  /** After each evaluation: mean training and validation loss. */
  evaluation(step: number, trainLoss: number, valLoss: number): Diagnostic[] {
    this.evals.push({ train: trainLoss, val: valLoss });
    const n = this.o.overfitEvals;
    if (this.evals.length < n + 1) return [];
    const last = this.evals.slice(-(n + 1));
    const valRising = last.every((e, i) => i === 0 || e.val > last[i - 1].val);
    const trainFalling = last[n].train < last[0].train;
    if (valRising && trainFalling && this.quiet('overfitting', step)) {
      return [{
        kind: 'overfitting', severity: 'warning', step,
        message: `Validation loss rose over the last ${n} evaluations (${last.map((e) => e.val.toFixed(3)).join(' → ')}) while training loss fell (${last[0].train.toFixed(3)} → ${last[n].train.toFixed(3)}): the model is memorising its training text.`,
        advice: 'Stop here (the best checkpoint is kept), add data, raise dropout or weight decay, or use a smaller model.',
      }];
    }
    return [];
  }

  private quiet(kind: DiagnosticKind, step: number): boolean {
    const last = this.lastSaid.get(kind);
    if (last !== undefined && step - last < this.o.cooldown) return false;
    this.lastSaid.set(kind, step);
    return true;
  }
}
