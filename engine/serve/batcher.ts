/**
 * Dynamic batching of text generation: sequences that arrive within a wait window of the first waiting one
 * (or fill the batch sooner) are decoded as one padded batch, one token per sequence per step, up to
 * maxBatch; a sequence that finishes, is cancelled or times out leaves the batch at the next step, and
 * sequences that arrive while a batch runs join it between steps while it has room. The
 * queue in front is bounded: when it is full a request is refused at once (the server answers 429), never
 * parked without limit. Between steps the event loop runs, so disconnects and new arrivals are seen.
 */
import type { GPT } from '../models/gpt/model';
import { pickToken, type SamplingOptions } from '../inspect/sample';
import { Rng } from '../util/random';
import { PaddedBatch } from './paddedBatch';

export interface BatcherOptions {
  /** sequences decoded together at most; 1 turns batching off */
  maxBatch: number;
  /** how long the first waiting sequence waits for others to join its batch */
  batchWaitMs: number;
  /** sequences waiting for a batch at most */
  maxQueue: number;
  /** runs before each decoding step (tests slow decoding down with it, to watch cancellation) */
  beforeStep?: () => Promise<void>;
}

export type EndReason = 'stop' | 'length' | 'cancelled' | 'error';

/** One sequence to generate, with where its tokens go. */
export interface SequenceJob {
  prompt: readonly number[];
  maxTokens: number;
  sampling: SamplingOptions;
  seed: number;
  /** aborted when its client goes away or its time is up: it leaves the queue or its batch */
  signal: AbortSignal;
  /** each new token; true ends the sequence (a stop sequence appeared) */
  onToken(id: number): boolean;
  /** called once, last */
  onEnd(reason: EndReason, error?: unknown): void;
}

interface Waiting {
  job: SequenceJob;
  arrived: number;
}

export class Batcher {
  private readonly queue: Waiting[] = [];
  private activeCount = 0;
  private wake: (() => void) | null = null;
  private closed = false;
  private readonly done: Promise<void>;
  tokensGenerated = 0;
  batches = 0;

  constructor(private readonly model: GPT, readonly opts: BatcherOptions) {
    this.done = this.loop();
  }

  get queued(): number {
    return this.queue.length;
  }

  get active(): number {
    return this.activeCount;
  }

  /** Queues the jobs (a request's choices, together), or returns false when the queue has no room for all of them. */
  submit(jobs: SequenceJob[]): boolean {
    if (this.closed || this.queue.length + jobs.length > this.opts.maxQueue) return false;
    const now = performance.now();
    for (const job of jobs) {
      const waiting = { job, arrived: now };
      this.queue.push(waiting);
      job.signal.addEventListener('abort', () => this.dropWaiting(waiting), { once: true });
    }
    this.wake?.();
    return true;
  }

  /** Stops taking work: queued jobs end as cancelled at once, running ones after the current step. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.queue.splice(0)) w.job.onEnd('cancelled');
    this.wake?.();
    await this.done;
  }

  private dropWaiting(w: Waiting): void {
    const i = this.queue.indexOf(w);
    if (i < 0) return;
    this.queue.splice(i, 1);
    w.job.onEnd('cancelled');
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      if (!this.queue.length) {
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = null;
        continue;
      }
      const wait = this.queue[0].arrived + this.opts.batchWaitMs - performance.now();
      if (this.queue.length < this.opts.maxBatch && wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.wake = () => { if (this.queue.length >= this.opts.maxBatch || this.closed) { clearTimeout(timer); resolve(); } };
        });
        this.wake = null;
        if (this.closed || !this.queue.length) continue;
      }
      await this.run(this.queue.splice(0, this.opts.maxBatch).map((w) => w.job));
    }
  }

  /** Decodes the jobs as one batch until every one of them has ended. */
  private async run(jobs: SequenceJob[]): Promise<void> {
    let alive = jobs.map((job) => ({ job, rng: new Rng(job.seed), count: 0 }));
    this.activeCount = alive.length;
    this.batches++;
    let batch: PaddedBatch | null = null;
    try {
      batch = new PaddedBatch(this.model, jobs.map((j) => j.prompt));
      let logits = batch.start();
      for (;;) {
        const stay: number[] = [];
        const next: number[] = [];
        alive.forEach((a, b) => {
          if (a.job.signal.aborted || this.closed) return a.job.onEnd('cancelled');
          const id = pickToken(logits[b], a.job.sampling, a.rng);
          a.count++;
          this.tokensGenerated++;
          const stopped = a.job.onToken(id);
          if (stopped || a.count >= a.job.maxTokens) return a.job.onEnd(stopped ? 'stop' : 'length');
          stay.push(b);
          next.push(id);
        });
        if (stay.length < alive.length && stay.length) batch.keep(stay);
        alive = stay.map((b) => alive[b]);
        this.activeCount = alive.length;
        if (!alive.length) break;
        await new Promise((resolve) => setImmediate(resolve));
        await this.opts.beforeStep?.();
        logits = batch.step(next);
        const joining = this.queue.splice(0, this.opts.maxBatch - alive.length).map((w) => ({ job: w.job, rng: new Rng(w.job.seed), count: 0 }));
        if (joining.length) {
          alive = [...alive, ...joining]; // before join(), so that an error there ends them too
          this.activeCount = alive.length;
          logits = [...logits, ...batch.join(joining.map((a) => a.job.prompt))];
        }
      }
    } catch (err) {
      for (const a of alive) a.job.onEnd('error', err);
    } finally {
      batch?.dispose();
      this.activeCount = 0;
    }
  }
}
