/**
 * Long synchronous work written once, as a generator that `yield`s between small units, and driven either to the
 * end at once (tests, small inputs) or cooperatively: the engine's event loop gets a turn whenever a slice has
 * run SLICE_MS, so a `status` or a `job.cancel` is heard within about that long, and a cancel stops the work.
 */
import { EngineError } from '../../common/errors';

/** A stretch of synchronous work the event loop waits through at most (plus one unit of work). */
export const SLICE_MS = 50;

export type Steps<T> = Generator<void, T, void>;

/** Runs the steps to the end without giving the event loop a turn. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** items.map(f) as steps, one item per step. */
export function* mapSteps<A, B>(items: readonly A[], f: (a: A) => B): Steps<B[]> {
  const out: B[] = [];
  for (const a of items) {
    out.push(f(a));
    yield;
  }
  return out;
}

export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Gives the event loop a turn once SLICE_MS of work has passed since the last one, and stops the work at a cancel:
 * `if (pacer.due()) await pacer.turn();` between units of work (no await at all between turns, so it costs nothing).
 */
export class Pacer {
  private since = performance.now();
  /** `what` names the work in the cancel's message: "training the tokenizer was cancelled" */
  constructor(private readonly what: string, private readonly signal?: AbortSignal) {}

  due(): boolean {
    return performance.now() - this.since >= SLICE_MS;
  }

  async turn(): Promise<void> {
    await yieldToLoop();
    if (this.signal?.aborted) throw new EngineError('JOB_CANCELLED', `${this.what} was cancelled`);
    this.since = performance.now();
  }
}

/** Runs the steps, yielding to the event loop every SLICE_MS; throws JOB_CANCELLED (saying what was stopped) once `signal` is aborted. */
export async function runCooperatively<T>(steps: Steps<T>, what: string, signal?: AbortSignal): Promise<T> {
  const pacer = new Pacer(what, signal);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (pacer.due()) await pacer.turn();
  }
}
