/**
 * `pretrain.start` and `pretrain.resume`: the trainer (engine/training/trainer.ts) as engine jobs. Its
 * events reach the host in onRunEvents batches — at most one message every BATCH_MS for step events, at
 * once for evaluations, checkpoints, diagnostics and status changes — so a fast run cannot flood the host.
 * `job.control` pauses and resumes between steps; `job.cancel` stops after the current step with a checkpoint.
 */
import type { z } from 'zod';
import { BackendRequest } from '../../../common/backends';
import { DatasetConfig } from '../../../common/datasetConfig';
import { EngineError } from '../../../common/errors';
import { ModelCellConfig } from '../../../common/experiment';
import { PretrainConfig } from '../../../common/pretrainConfig';
import type { RunEvent } from '../../../common/runEvents';
import { TokenizerConfig } from '../../../common/tokenizerConfig';
import { Trainer, type RunSpec, type RunSummary, type TrainerEvent } from '../../training/trainer';
import type { JobContext, JobHandler } from '../job';
import { invalidConfig } from '../../../common/zodIssues';

export const BATCH_MS = 200;

const finite = (x: number | null) => (x === null || Number.isFinite(x) ? x : null);

/** JSON has no NaN: a diverging loss travels as null (the run folder keeps the exact value). */
function wireSafe(e: TrainerEvent): RunEvent {
  if (e.type !== 'step') return e;
  return { ...e, etaSeconds: finite(e.etaSeconds), scalars: Object.fromEntries(Object.entries(e.scalars).map(([k, v]) => [k, finite(v)])) };
}

/** Collects a run's events and sends them in batches. */
export class RunEventBatcher {
  private buffer: RunEvent[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly send: (events: RunEvent[]) => void, private readonly intervalMs = BATCH_MS) {}

  push(e: TrainerEvent): void {
    const event = wireSafe(e);
    // data-preparation progress: only the latest of a phase matters
    const last = this.buffer[this.buffer.length - 1];
    if (event.type === 'progress' && last?.type === 'progress' && last.phase === event.phase) this.buffer[this.buffer.length - 1] = event;
    else this.buffer.push(event);
    if (event.type === 'step' || event.type === 'progress') {
      this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
    } else {
      this.flush();
    }
  }

  flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (!this.buffer.length) return;
    const events = this.buffer;
    this.buffer = [];
    this.send(events);
  }
}

function parseCell<S extends z.ZodType>(schema: S, value: unknown, cell: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw invalidConfig(r.error, [cell]);
  }
  return r.data;
}

/** Runs the trainer with the job's events, controls and cancellation; a cancelled run ends as JOB_CANCELLED, a failed one as its error. */
export async function follow(trainer: Trainer, batcher: RunEventBatcher, ctx: JobContext): Promise<RunSummary> {
  ctx.onControl((action) => (action === 'pause' ? trainer.pause() : trainer.resume()));
  const summary = await trainer.run();
  batcher.flush();
  if (summary.status === 'cancelled') throw new EngineError('JOB_CANCELLED', `run ${summary.run_id} stopped at step ${summary.steps}; its last checkpoint is in ${summary.run_dir}`);
  if (summary.status === 'failed') throw new EngineError(summary.error?.code ?? 'INTERNAL', summary.error?.message ?? 'the run failed');
  return summary;
}

export const pretrainStart: JobHandler<'pretrain.start'> = {
  usesDevice: true,
  backendOf: (spec) => spec.backend ?? BackendRequest.safeParse((spec.pretrain as { backend?: unknown }).backend).data,
  async run(spec, ctx) {
    const run: RunSpec = {
      name: spec.name,
      dataset: parseCell(DatasetConfig, spec.dataset, 'dataset'),
      tokenizer: parseCell(TokenizerConfig, spec.tokenizer, 'tokenizer'),
      model: parseCell(ModelCellConfig, spec.model, 'model'),
      pretrain: parseCell(PretrainConfig, spec.pretrain, 'pretrain'),
    };
    const batcher = new RunEventBatcher((events) => ctx.runEvents(events));
    const trainer = await Trainer.start(run, spec.runsDir, {
      onEvent: (e) => batcher.push(e), baseDir: spec.baseDir, backend: ctx.backend?.name, signal: ctx.signal,
      ...(spec.steps ? { steps: spec.steps } : {}),
      ...(spec.runId ? { runId: spec.runId } : {}),
    }).finally(() => batcher.flush());
    return follow(trainer, batcher, ctx);
  },
};

export const pretrainResume: JobHandler<'pretrain.resume'> = {
  usesDevice: true,
  backendOf: (spec) => spec.backend,
  async run(spec, ctx) {
    const batcher = new RunEventBatcher((events) => ctx.runEvents(events));
    const trainer = await Trainer.resume(spec.runDir, { onEvent: (e) => batcher.push(e), backend: ctx.backend?.name, signal: ctx.signal })
      .finally(() => batcher.flush());
    return follow(trainer, batcher, ctx);
  },
};
