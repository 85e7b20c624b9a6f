/**
 * Runs of an experiment, as the host serves them: listing NAME.runs/, reading a run's curves from
 * metrics.jsonl, starting a pretrain cell of the saved experiment in the engine, resuming, pausing and
 * stopping, and the dataset preview. Run events and job ends are handed on as WorkbenchApi events.
 *
 * The run folder is the engine's: the host only reads it, with one exception — when the engine dies while
 * a run trains, run.json still says 'running', and the host turns that into 'interrupted' (the checkpoints
 * the engine wrote stay as they are; runs.resume continues from the newest).
 * Writing a run's reference into the experiment document is the UI's business: it has the jobId at once
 * and the runId with the first status run event.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import type { BackendRequest } from '../../common/backends';
import { toEngineError } from '../../common/engineClient';
import { EngineError, type SerializedError } from '../../common/errors';
import { pretrainCellsOf } from '../../common/experiment';
import type { EngineEvent, JobSpec } from '../../common/protocol';
import type { RunEvent, RunSummary } from '../../common/runEvents';
import type { DatasetPreview, MetricsPoint, PayloadOf, RunListEntry, WorkbenchEvent } from '../../common/workbenchApi';
import { writeJsonAtomic } from '../../common/node/atomicWrite';
import { METRICS_FILE, RUN_JSON, listRuns, readMetricsPoints, readRunJson, runsDirOf } from '../../common/node/runFiles';
import type { EngineSupervisor, SupervisorListener } from './engineSupervisor';
import type { ExperimentFiles } from './experimentFiles';

type Emit = <E extends WorkbenchEvent>(event: E, payload: PayloadOf<E>) => void;

interface TrackedJob {
  kind: 'run' | 'preview';
  runDir?: string;
  runId?: string;
  /** previews: the caller waiting for the result */
  settle?: (outcome: { ok: true; result: DatasetPreview } | { ok: false; error: EngineError }) => void;
}

function newJobId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export interface StartRunParams { experimentPath: string; cellId: string; backend?: BackendRequest; steps?: number }
export interface PreviewParams {
  dataset: Record<string, unknown>;
  tokenizer: Record<string, unknown>;
  experimentPath: string | null;
  samples: number;
}

export class RunsService {
  private readonly jobs = new Map<string, TrackedJob>();
  private readonly unsubscribe: () => void;

  constructor(private readonly engine: EngineSupervisor, private readonly files: ExperimentFiles, private readonly emit: Emit) {
    this.unsubscribe = engine.on((e) => this.onSupervisor(e));
  }

  dispose(): void {
    this.unsubscribe();
    for (const [jobId, job] of this.jobs) job.settle?.({ ok: false, error: new EngineError('INTERNAL', `job ${jobId}: the host is shutting down`) });
    this.jobs.clear();
  }

  // ---------------------------------------------------------------------------------------------------
  // reading

  async list(experimentPath: string): Promise<z.infer<typeof RunListEntry>[]> {
    const file = await this.files.resolvePath(experimentPath, ['experimentPath']);
    const runsDir = runsDirOf(file);
    try {
      return await listRuns(runsDir, (runJson) => this.outsideWorkspace(path.dirname(runJson), RUN_JSON));
    } catch (err) {
      throw new EngineError('INVALID_CONFIG', `${runsDir}: cannot be listed (${(err as Error).message})`, ['experimentPath']);
    }
  }

  async metrics(runDir: string, sinceStep?: number): Promise<MetricsPoint[]> {
    const dir = await this.files.resolvePath(runDir, ['runDir']);
    const outside = await this.outsideWorkspace(dir, METRICS_FILE);
    if (outside) throw new EngineError('BAD_MESSAGE', outside, ['runDir']);
    return readMetricsPoints(dir, sinceStep ?? 0);
  }

  /**
   * Why `name` in the run folder `dir` may not be read, or null: in browser mode a file of a run folder
   * inside the workspace can still be a link to one outside it, and what is read goes back to the page.
   */
  private async outsideWorkspace(dir: string, name: string): Promise<string | null> {
    try {
      await this.files.resolvePath(path.join(dir, name));
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // jobs

  /** runs.start: the pretrain cell `cellId` of the experiment as saved, with the dataset and model cells before it. */
  async start(p: StartRunParams): Promise<{ jobId: string }> {
    const { path: file, experiment } = await this.files.read(p.experimentPath);
    const { dataset, model, pretrain } = pretrainCellsOf(experiment, p.cellId, file);
    const baseDir = path.dirname(file);
    await this.checkDatasetPath(dataset.dataset.source, baseDir);
    const jobId = newJobId('run');
    return this.startJob(jobId, {
      kind: 'pretrain.start',
      name: experiment.name,
      dataset: dataset.dataset as unknown as Record<string, unknown>,
      tokenizer: dataset.tokenizer as unknown as Record<string, unknown>,
      model: model.model as unknown as Record<string, unknown>,
      pretrain: pretrain.pretrain as unknown as Record<string, unknown>,
      runsDir: runsDirOf(file),
      baseDir,
      ...(p.backend ? { backend: p.backend } : {}),
      ...(p.steps ? { steps: p.steps } : {}),
    }, { kind: 'run' });
  }

  /** runs.resume: continues a stopped, failed or interrupted run from its newest valid checkpoint. */
  async resume(runDir: string): Promise<{ jobId: string }> {
    const dir = await this.files.resolvePath(runDir, ['runDir']);
    const outside = await this.outsideWorkspace(dir, RUN_JSON);
    if (outside) throw new EngineError('BAD_MESSAGE', outside, ['runDir']);
    const run = await readRunJson(dir).catch((err: Error) => { throw new EngineError('INVALID_CONFIG', err.message, ['runDir']); });
    if (run.status === 'completed') throw new EngineError('INVALID_CONFIG', `${dir}: this run completed all its steps; start a new run to train further`, ['runDir']);
    const running = [...this.jobs.values()].find((j) => j.runDir === dir);
    if (running) throw new EngineError('BUSY', `${dir}: this run is training now`, ['runDir']);
    return this.startJob(newJobId('run'), { kind: 'pretrain.resume', runDir: dir }, { kind: 'run', runDir: dir, runId: run.id });
  }

  /** runs.control: pause and resume between steps; stop ends the run after the current step, with a checkpoint. */
  async control(jobId: string, action: 'pause' | 'resume' | 'stop'): Promise<Record<string, never>> {
    await this.engine.request((c) => (action === 'stop' ? c.cancelJob(jobId) : c.controlJob(jobId, action)));
    return {};
  }

  /** dataset.preview, computed by the engine beside any training (it takes no device). */
  async preview(p: PreviewParams): Promise<DatasetPreview> {
    const baseDir = p.experimentPath
      ? path.dirname(await this.files.resolvePath(p.experimentPath, ['experimentPath']))
      : (this.files.workspaceRoot ?? os.homedir());
    const source = (p.dataset as { source?: { kind?: string; path?: string } }).source;
    if (source) await this.checkDatasetPath(source, baseDir);
    const jobId = newJobId('preview');
    const done = new Promise<DatasetPreview>((resolve, reject) => {
      this.jobs.set(jobId, { kind: 'preview', settle: (o) => (o.ok ? resolve(o.result) : reject(o.error)) });
    });
    done.catch(() => undefined);
    try {
      await this.engine.request((c) => c.request({ type: 'job.start', jobId, job: { kind: 'dataset.preview', dataset: p.dataset, tokenizer: p.tokenizer, baseDir, samples: p.samples } }));
    } catch (err) {
      this.jobs.delete(jobId);
      throw err;
    }
    return done;
  }

  private async startJob(jobId: string, job: JobSpec, tracked: TrackedJob): Promise<{ jobId: string }> {
    // tracked before the engine hears of it: its first events may come right after the reply
    this.jobs.set(jobId, tracked);
    try {
      await this.engine.request((c) => c.request({ type: 'job.start', jobId, job }));
    } catch (err) {
      this.jobs.delete(jobId);
      throw err;
    }
    return { jobId };
  }

  /** Browser mode: a dataset file or folder outside the workspace is refused like any other path. */
  private async checkDatasetPath(source: { kind?: string; path?: string }, baseDir: string): Promise<void> {
    if (!this.files.workspaceRoot || typeof source.path !== 'string') return;
    const field = ['dataset', 'source', 'path'];
    const root = await this.files.resolvePath(path.resolve(baseDir, source.path), field);
    if (source.kind !== 'folder') return;
    // the engine reads the folder's linked files too (engine/data/sources.ts listFolder, which skips hidden
    // entries and does not follow linked folders): each link must stay inside the workspace as well
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch {
        return; // unreadable: the engine says so, naming it
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const full = path.join(dir, e.name);
        if (e.isSymbolicLink()) await this.files.resolvePath(full, field);
        else if (e.isDirectory()) await walk(full);
      }
    };
    await walk(root);
  }

  // ---------------------------------------------------------------------------------------------------
  // engine events

  private onSupervisor(e: SupervisorListener): void {
    if (e.type === 'event') this.onEngineEvent(e.event);
    else if (e.type === 'exited') void this.onEngineExit(e.reason);
  }

  private onEngineEvent(event: EngineEvent): void {
    if (!('jobId' in event) || event.jobId === undefined) return;
    const job = this.jobs.get(event.jobId);
    if (!job) return;
    const jobId = event.jobId;
    switch (event.type) {
      case 'onRunEvents':
        for (const ev of event.events) if (ev.type === 'status') { job.runDir = ev.runDir; job.runId = ev.runId; }
        if (job.kind === 'run') this.emit('onRunEvents', { jobId, events: event.events });
        return;
      case 'onJobDone':
        this.jobs.delete(jobId);
        if (job.kind === 'preview') job.settle?.({ ok: true, result: event.result as DatasetPreview });
        else this.emit('onJobEnded', { jobId, outcome: 'done', summary: event.result as RunSummary });
        return;
      case 'onJobFailed':
        this.jobs.delete(jobId);
        if (job.kind === 'preview') job.settle?.({ ok: false, error: toEngineError(event.error) });
        else this.emit('onJobEnded', { jobId, outcome: 'failed', error: event.error });
        return;
      case 'onJobCancelled':
        this.jobs.delete(jobId);
        if (job.kind === 'preview') job.settle?.({ ok: false, error: new EngineError('JOB_CANCELLED', 'the preview was cancelled') });
        else this.emit('onJobEnded', { jobId, outcome: 'cancelled' });
        return;
      default:
    }
  }

  /** The engine is gone: every job of ours is over. A run that was training is marked interrupted, then reported. */
  private async onEngineExit(reason: string): Promise<void> {
    const lost = [...this.jobs.entries()];
    this.jobs.clear();
    for (const [jobId, job] of lost) {
      const error: SerializedError = { code: 'INTERNAL', message: `${reason}; the job ended with it` };
      if (job.kind === 'preview') {
        job.settle?.({ ok: false, error: toEngineError(error) });
        continue;
      }
      if (job.runDir) {
        await markInterrupted(job.runDir);
        error.message = `${reason}; the run stopped there, its checkpoints are kept — resume it to continue`;
        const status: RunEvent = { type: 'status', status: 'interrupted', runId: job.runId ?? path.basename(job.runDir), runDir: job.runDir, message: error.message };
        this.emit('onRunEvents', { jobId, events: [status] });
      }
      this.emit('onJobEnded', { jobId, outcome: 'failed', error });
    }
  }
}

/** run.json of a run whose engine died: 'running' becomes 'interrupted' (atomically); other states stand. */
export async function markInterrupted(runDir: string): Promise<boolean> {
  const run = await readRunJson(runDir).catch(() => null);
  if (run?.status !== 'running') return false;
  try {
    await writeJsonAtomic(path.join(runDir, RUN_JSON), { ...run, status: 'interrupted', updated: new Date().toISOString() });
    return true;
  } catch {
    return false; // a read-only folder: the run still resumes, it only keeps saying 'running'
  }
}
