/**
 * What `workbench train` shows on a terminal: one progress line redrawn in place (step, bar, loss,
 * throughput, ETA), with evaluations, checkpoints and diagnostics printed above it. On a pipe, the same
 * facts as plain lines, a progress line every tenth of the run.
 */
import type { SerializedError } from '../../common/errors';
import type { RunSummary, TrainerEvent } from '../training/trainer';

/**
 * The summary of a run that ended before its first step (data preparation failed or was cancelled): no
 * losses, no throughput, only why. run_id and run_dir are null when no run folder was made.
 */
export interface EarlySummary {
  status: 'failed' | 'cancelled';
  run_id: string | null;
  run_dir: string | null;
  error: SerializedError;
}

const fmtTime = (s: number) => {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
};

export class ProgressView {
  private readonly tty: boolean;
  private lastTenth = -1;
  private line = '';

  constructor(private readonly out: NodeJS.WriteStream) {
    this.tty = Boolean(out.isTTY);
  }

  private print(text: string): void {
    if (this.tty && this.line) this.out.write('\r\x1b[2K');
    this.out.write(`${text}\n`);
    if (this.tty && this.line) this.out.write(this.line);
  }

  event(e: TrainerEvent): void {
    switch (e.type) {
      case 'status':
        // a run that stopped has no progress line to redraw under its status
        if (e.status !== 'running' && e.status !== 'preparing') this.clearLine();
        this.print(e.status === 'preparing' ? `run ${e.runId} in ${e.runDir}: preparing data and tokenizer…` : `run ${e.runId}: ${e.status}${e.message ? ` — ${e.message}` : ''}`);
        break;
      case 'progress':
        if (this.tty) this.redraw(`  ${e.phase} ${e.total > 1 ? `${e.done}/${e.total}` : ''}`);
        break;
      case 'log':
        this.print(`${e.level === 'warning' ? 'warning: ' : ''}${e.message}`);
        break;
      case 'diagnostic':
        this.print(`${e.diagnostic.severity === 'error' ? 'ERROR' : 'warning'} (${e.diagnostic.kind}): ${e.diagnostic.message}\n  try: ${e.diagnostic.advice}`);
        break;
      case 'eval': {
        const acc = [e.val.mlmAccuracy !== undefined ? `mlm acc ${(100 * e.val.mlmAccuracy).toFixed(1)}%` : '', e.val.nspAccuracy !== undefined ? `nsp acc ${(100 * e.val.nspAccuracy).toFixed(1)}%` : '',
          e.val.accuracy !== undefined ? `accuracy ${(100 * e.val.accuracy).toFixed(1)}%` : '', e.val.macroF1 !== undefined ? `macro-F1 ${(100 * e.val.macroF1).toFixed(1)}` : ''].filter(Boolean).join(', ');
        this.print(`step ${e.step}: train loss ${e.train.loss.toFixed(4)}, val loss ${e.val.loss.toFixed(4)} (perplexity ${e.val.perplexity.toFixed(2)})${acc ? `, ${acc}` : ''}`);
        break;
      }
      case 'checkpoint':
        if (!this.tty) break;
        this.print(`checkpoint ${e.name}${e.best ? ' (best so far)' : ''}`);
        break;
      case 'step': {
        const frac = e.step / e.totalSteps;
        const s = e.scalars;
        const text = `step ${e.step}/${e.totalSteps} ${this.bar(frac)} loss ${(s['train/loss'] ?? NaN).toFixed(4)} | ${Math.round(s['perf/tokens_per_s'] ?? NaN)} tok/s | ETA ${fmtTime(e.etaSeconds ?? NaN)}`;
        if (this.tty) {
          this.redraw(text);
        } else {
          const tenth = Math.floor(frac * 10);
          if (tenth > this.lastTenth) { this.lastTenth = tenth; this.out.write(`${text}\n`); }
        }
        break;
      }
    }
  }

  summary(s: RunSummary | EarlySummary): void {
    this.clearLine();
    if (!('steps' in s)) {
      this.out.write(`\n${s.status} before the first step: ${s.error.message}\n${s.run_dir ? `run folder: ${s.run_dir}\n` : ''}`);
      return;
    }
    const f = (x: number | null) => (x === null ? '-' : x.toFixed(4));
    this.out.write(`\n${s.status}: ${s.steps} steps, final train loss ${f(s.final_train_loss)}, val loss ${f(s.final_val_loss)}, best val ${f(s.best_val_loss)}` +
      `${s.mlm_accuracy !== undefined ? `, mlm accuracy ${(100 * s.mlm_accuracy).toFixed(1)}%` : ''}` +
      `, ${s.tokens_per_s === null ? '-' : Math.round(s.tokens_per_s)} tokens/s on ${s.backend.name} (${s.backend.threads} thread(s))\nrun folder: ${s.run_dir}\n` +
      `${s.error ? `error: ${s.error.message}\n` : ''}`);
  }

  private bar(frac: number): string {
    const w = 24;
    const n = Math.round(Math.min(1, Math.max(0, frac)) * w);
    return `[${'#'.repeat(n)}${'.'.repeat(w - n)}] ${(100 * frac).toFixed(0).padStart(3)}%`;
  }

  private clearLine(): void {
    if (this.tty && this.line) this.out.write('\r\x1b[2K');
    this.line = '';
  }

  private redraw(text: string): void {
    this.line = text;
    this.out.write(`\r\x1b[2K${text}`);
  }
}
