/**
 * The store of every chart's numbers, kept outside React: per run, per tag, four columns in typed arrays
 * (step, tokens seen, wall time in seconds, value) that grow by doubling. Run events and metrics.jsonl
 * points go in; subscribers hear about it at most once per `throttleMs` (10 times a second by default),
 * with the runs that changed, and read the columns themselves. Charts redraw from here without a React
 * render; small React parts read `version` through `useMetricsVersion` (hooks.ts).
 */
import type { Diagnostic, RunEvent } from '../../common/runEvents';
import type { MetricsPoint } from '../../common/workbenchApi';

/** One scalar tag of one run; points sorted by step, one point per step. */
export class Series {
  length = 0;
  step = new Float64Array(16);
  tokens = new Float64Array(16);
  wall = new Float64Array(16);
  value = new Float64Array(16);
  /** bumped when points were replaced, inserted or dropped rather than appended: derived caches restart */
  epoch = 0;

  constructor(public readonly tag: string) {}

  get lastStep(): number { return this.length ? this.step[this.length - 1] : -Infinity; }

  /**
   * Adds a point. A step already present replaces it. A step before the last one either drops the tail
   * first (`rewind`: a run resumed from an earlier checkpoint reports those steps again, and the new
   * curve is the true one) or is inserted in order (history arriving after live points).
   */
  put(step: number, tokens: number, wall: number, value: number, rewind: boolean): void {
    let at = this.length;
    if (step <= this.lastStep) {
      at = lowerBound(this.step, this.length, step);
      this.epoch += 1;
      if (rewind) this.length = at;
      else if (this.step[at] === step) { this.set(at, step, tokens, wall, value); return; }
    }
    if (this.length === this.step.length) this.grow();
    if (at < this.length) {
      for (const col of [this.step, this.tokens, this.wall, this.value]) col.copyWithin(at + 1, at, this.length);
    }
    this.set(at, step, tokens, wall, value);
    this.length += 1;
  }

  private set(i: number, step: number, tokens: number, wall: number, value: number): void {
    this.step[i] = step; this.tokens[i] = tokens; this.wall[i] = wall; this.value[i] = value;
  }

  private grow(): void {
    const n = this.step.length * 2;
    const g = (a: Float64Array) => { const b = new Float64Array(n); b.set(a); return b; };
    this.step = g(this.step); this.tokens = g(this.tokens); this.wall = g(this.wall); this.value = g(this.value);
  }

  /** the column an x axis mode reads */
  column(x: XAxisMode): Float64Array {
    return x === 'tokens' ? this.tokens : x === 'wall' ? this.wall : this.step;
  }
}

export type XAxisMode = 'step' | 'tokens' | 'wall';

function lowerBound(a: Float64Array, n: number, v: number): number {
  let lo = 0, hi = n;
  while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m] < v) lo = m + 1; else hi = m; }
  return lo;
}

export type RunStatusText = Extract<RunEvent, { type: 'status' }>['status'];

/** What the progress bar and banners read: the newest step event and status, and the diagnostics. */
export interface RunProgress {
  step: number;
  totalSteps: number;
  tokens: number;
  etaSeconds: number | null;
  status: RunStatusText | null;
  statusMessage: string | null;
  /** Date.now() when the newest step event arrived */
  updatedAt: number;
}

export class RunMetrics {
  readonly series = new Map<string, Series>();
  readonly diagnostics: Diagnostic[] = [];
  progress: RunProgress = { step: 0, totalSteps: 0, tokens: 0, etaSeconds: null, status: null, statusMessage: null, updatedAt: 0 };
  /** bumps on every change to this run */
  version = 0;
  /** when the run started, in seconds since the epoch (run.json's `created`), where the caller knows it */
  startedAt: number | null = null;

  constructor(public readonly runId: string) {}

  /**
   * Where the run's wall-time axis counts from: its recorded start, or else its earliest point of any tag
   * (never a series' own first point: validation at step 50 happened well after step 1). A resumed run
   * keeps its origin, so its time goes on from where it was rather than starting again at 0.
   */
  origin(): number {
    let t = this.startedAt ?? Infinity;
    for (const s of this.series.values()) if (s.length && s.wall[0] < t) t = s.wall[0];
    return Number.isFinite(t) ? t : 0;
  }

  get(tag: string): Series | undefined { return this.series.get(tag); }

  ensure(tag: string): Series {
    let s = this.series.get(tag);
    if (!s) { s = new Series(tag); this.series.set(tag, s); }
    return s;
  }

  tags(): string[] { return [...this.series.keys()]; }
}

export interface MetricsBufferOptions {
  /** the least time between two notifications; 100 ms (10 per second) by default */
  throttleMs?: number;
  now?: () => number;
  /** how a deferred notification is scheduled; setTimeout by default (tests pass a fake clock) */
  schedule?: (fn: () => void, ms: number) => void;
}

export type BufferListener = (changedRuns: ReadonlySet<string>) => void;

const EVAL_TAGS: [keyof import('../../common/runEvents').EvalResult, string, string][] = [
  ['loss', 'val/loss', 'train/eval_loss'],
  ['perplexity', 'val/perplexity', 'train/perplexity'],
  ['mlmAccuracy', 'val/mlm_accuracy', 'train/mlm_accuracy'],
  ['nspAccuracy', 'val/nsp_accuracy', 'train/nsp_accuracy'],
  ['accuracy', 'val/accuracy', 'train/accuracy'],
  ['macroF1', 'val/macro_f1', 'train/macro_f1'],
];

export class MetricsBuffer {
  private readonly runs = new Map<string, RunMetrics>();
  private readonly listeners = new Set<BufferListener>();
  private pending = new Set<string>();
  private scheduled = false;
  private timerGen = 0;
  private lastNotify = -Infinity;
  private readonly throttleMs: number;
  private readonly now: () => number;
  private readonly schedule: (fn: () => void, ms: number) => void;
  /** bumps once per notification: what React reads through useSyncExternalStore */
  version = 0;

  constructor(o: MetricsBufferOptions = {}) {
    this.throttleMs = o.throttleMs ?? 100;
    this.now = o.now ?? (() => performance.now());
    this.schedule = o.schedule ?? ((fn, ms) => { setTimeout(fn, ms); });
  }

  run(runId: string): RunMetrics | undefined { return this.runs.get(runId); }
  runIds(): string[] { return [...this.runs.keys()]; }
  series(runId: string, tag: string): Series | undefined { return this.runs.get(runId)?.get(tag); }

  private ensureRun(runId: string): RunMetrics {
    let r = this.runs.get(runId);
    if (!r) { r = new RunMetrics(runId); this.runs.set(runId, r); }
    return r;
  }

  /**
   * A batch of run events as onRunEvents delivers them. Step events have no wall clock of their own:
   * the batch's last step is stamped with the arrival time and earlier ones placed before it by their
   * 'progress/elapsed_s', so a batch of many steps still spreads out on a wall-time axis.
   */
  ingestRunEvents(runId: string, events: readonly RunEvent[], arrivedAt = Date.now() / 1000): void {
    const r = this.ensureRun(runId);
    let lastElapsed: number | null = null;
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      if (e.type === 'step') { lastElapsed = e.scalars['progress/elapsed_s'] ?? null; break; }
    }
    for (const e of events) {
      switch (e.type) {
        case 'step': {
          const el = e.scalars['progress/elapsed_s'];
          const wall = lastElapsed !== null && el != null ? arrivedAt - (lastElapsed - el) : arrivedAt;
          for (const [tag, v] of Object.entries(e.scalars)) r.ensure(tag).put(e.step, e.tokens, wall, v ?? NaN, true);
          r.progress = { ...r.progress, step: e.step, totalSteps: e.totalSteps, tokens: e.tokens, etaSeconds: e.etaSeconds, updatedAt: Date.now() };
          if (r.progress.status === null || r.progress.status === 'preparing') r.progress.status = 'running';
          break;
        }
        case 'eval': {
          // the step event at the same step carries these too; whichever comes second replaces the first
          for (const [key, valTag, trainTag] of EVAL_TAGS) {
            const v = e.val[key], t = e.train[key];
            if (v !== undefined) r.ensure(valTag).put(e.step, r.progress.tokens, arrivedAt, v, true);
            if (t !== undefined) r.ensure(trainTag).put(e.step, r.progress.tokens, arrivedAt, t, true);
          }
          break;
        }
        case 'diagnostic': {
          const d = e.diagnostic;
          if (!r.diagnostics.some((x) => x.kind === d.kind && x.step === d.step)) r.diagnostics.push(d);
          break;
        }
        case 'status':
          r.progress = { ...r.progress, status: e.status, statusMessage: e.message ?? null };
          break;
        default:
          break;
      }
    }
    this.changed(runId);
  }

  /** Points of metrics.jsonl (runs.metrics): a finished run, or the history of one still going. */
  ingestMetrics(runId: string, points: readonly MetricsPoint[]): void {
    const r = this.ensureRun(runId);
    for (const p of points) {
      for (const [tag, v] of Object.entries(p.scalars)) r.ensure(tag).put(p.step, p.tokens, p.wallTime, v ?? NaN, false);
      if (p.step >= r.progress.step) r.progress = { ...r.progress, step: p.step, tokens: p.tokens };
    }
    this.changed(runId);
  }

  /** The run's recorded start (seconds since the epoch): its wall-time axis counts from there. */
  setRunStart(runId: string, startedAt: number | null): void {
    const r = this.ensureRun(runId);
    if (r.startedAt === startedAt) return;
    r.startedAt = startedAt;
    this.changed(runId);
  }

  /** forgets a run (or all of them) */
  clear(runId?: string): void {
    const ids = runId === undefined ? [...this.runs.keys()] : [runId];
    for (const id of ids) { this.runs.delete(id); this.changed(id); }
  }

  /** Called with the runs that changed, at most once per throttle interval. Returns the unsubscriber. */
  subscribe = (listener: BufferListener): (() => void) => {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  };

  private changed(runId: string): void {
    const r = this.runs.get(runId);
    if (r) r.version += 1;
    this.pending.add(runId);
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = Math.max(0, this.lastNotify + this.throttleMs - this.now());
    const gen = ++this.timerGen;
    // a flush() in between makes this timer stale; the next change schedules its own
    this.schedule(() => { if (gen === this.timerGen) this.flush(); }, wait);
  }

  /** notifies now (tests, or a caller that must draw this frame) */
  flush(): void {
    this.scheduled = false;
    this.timerGen += 1;
    if (this.pending.size === 0) return;
    const changed = this.pending;
    this.pending = new Set();
    this.lastNotify = this.now();
    this.version += 1;
    for (const l of [...this.listeners]) l(changed);
  }
}

/** The buffer the app shares: one per window. */
export const metricsBuffer = new MetricsBuffer();

export function ingestRunEvents(runId: string, events: readonly RunEvent[]): void { metricsBuffer.ingestRunEvents(runId, events); }
export function ingestMetrics(runId: string, points: readonly MetricsPoint[]): void { metricsBuffer.ingestMetrics(runId, points); }
