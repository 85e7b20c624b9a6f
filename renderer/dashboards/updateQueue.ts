/**
 * Spreads the dashboard's chart updates over animation frames, one chart per frame: four charts redrawn
 * in the same frame would overrun it. Each chart keeps its own set of changed runs, so a change that
 * arrives while the queue is being worked through reaches the charts already updated as well (after a
 * reload a run's start time comes first and its points a moment later: the first chart must not keep
 * showing "no data yet").
 */
export type UpdateTarget = (changedRuns: ReadonlySet<string>) => void;

export interface FrameScheduler {
  request(cb: () => void): number;
  cancel(handle: number): void;
}

const browserFrames: FrameScheduler = {
  request: (cb) => requestAnimationFrame(cb),
  cancel: (h) => cancelAnimationFrame(h),
};

export class ChartUpdateQueue {
  /** the targets due for an update, in order, each with the runs changed since its last one */
  private readonly due = new Map<UpdateTarget, Set<string>>();
  private raf = 0;

  constructor(private readonly targets: readonly UpdateTarget[], private readonly frames: FrameScheduler = browserFrames) {}

  /** the buffer changed for these runs */
  notify(changed: ReadonlySet<string>): void {
    for (const t of this.targets) {
      let runs = this.due.get(t);
      if (!runs) this.due.set(t, (runs = new Set()));
      changed.forEach((id) => runs.add(id));
    }
    if (!this.raf) this.raf = this.frames.request(() => this.drain());
  }

  dispose(): void {
    if (this.raf) this.frames.cancel(this.raf);
    this.raf = 0;
    this.due.clear();
  }

  private drain(): void {
    this.raf = 0;
    const next = this.due.entries().next();
    if (next.done) return;
    const [target, runs] = next.value;
    this.due.delete(target);
    if (this.due.size) this.raf = this.frames.request(() => this.drain());
    target(runs);
  }
}
