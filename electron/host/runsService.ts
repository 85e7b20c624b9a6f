/**
 * Runs of an experiment, as the host serves them: listing NAME.runs/, reading a run's curves from
 * metrics.jsonl, starting a pretrain cell of the saved experiment in the engine, resuming, pausing and
 * stopping, and the dataset preview. Run events and job ends are handed on as WorkbenchApi events.
 *
 * The run folder is the engine's: the host only reads it, with one exception — when the engine dies while
 * a run trains, run.json still says 'running', and the host turns that into 'interrupted' (the checkpoints
 * the engine wrote stay as they are; runs.resume continues from the newest).
 * A run is named by its experiment file and its run id (its folder, NAME.runs/RUN_ID, is derived from the
 * two: common/experiment.ts runDirOf). The host picks the id when it starts a run and gives the engine's
 * job the same id, so calls, events and the engine all speak of one handle; run.lock keeps one job per run.
 * Writing a run's reference into the experiment document is the UI's business: it has the run id at once.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import type { BackendRequest } from '../../common/backends';
import { toEngineError } from '../../common/engineClient';
import { EngineError, type SerializedError } from '../../common/errors';
import { pretrainCellsOf, runDirOf, runsDirOf } from '../../common/experiment';
import { BUNDLES_DIR, type BundleExportResult } from '../../common/bundle';
import { TORCH_PROJECTS_DIR, type TorchExportResult } from '../../common/torchExport';
import type { LoraTargetsResult } from '../../common/loraTargets';
import type { EngineEvent, JobSpec, ModelImportResult } from '../../common/protocol';
import type { RunEvent, RunSummary } from '../../common/runEvents';
import { newRunId } from '../../common/runFolder';
import type { DatasetPreview, MetricsPoint, PayloadOf, RunListEntry, WorkbenchEvent } from '../../common/workbenchApi';
import { writeJsonAtomic } from '../../common/node/atomicWrite';
import { CLASSIFICATION_REPORT_FILE, type ClassificationReport } from '../../common/classificationReport';
import { readClassificationReport } from '../../common/node/classificationReport';
import { METRICS_FILE, RUN_JSON, listRuns, readMetricsPoints, readRunJson } from '../../common/node/runFiles';
import type { EngineSupervisor, SupervisorListener } from './engineSupervisor';
import type { ExperimentFiles } from './experimentFiles';
import { startTrackedJob } from './trackedJob';

type Emit = <E extends WorkbenchEvent>(event: E, payload: PayloadOf<E>) => void;

/** A run being trained: its job id is its run id. */
interface TrackedRun {
  kind: 'run';
  experimentPath: string;
  runId: string;
  runDir: string;
  /** the engine reported the run's folder (a status event): an engine that dies now leaves it interrupted */
  reported: boolean;
}
/** A job whose caller waits for its result (a dataset preview, an import). */
interface TrackedCall {
  kind: 'call';
  /** what the job is, for the message when it is cancelled */
  what: string;
  settle: (outcome: { ok: true; result: unknown } | { ok: false; error: EngineError }) => void;
}
type TrackedJob = TrackedRun | TrackedCall;

function newJobId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export interface StartRunParams { experimentPath: string; cellId: string; backend?: BackendRequest; steps?: number }
export interface DeriveRunParams { experimentPath: string; baseRunId: string; checkpoint: string; task: 'finetune' | 'compress'; settings: Record<string, unknown>; name?: string }
export interface RunHandle { experimentPath: string; runId: string }
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
    for (const [jobId, job] of this.jobs) if (job.kind === 'call') job.settle({ ok: false, error: new EngineError('INTERNAL', `job ${jobId}: the host is shutting down`) });
    this.jobs.clear();
  }

  // ---------------------------------------------------------------------------------------------------
  // reading

  async list(experimentPath: string): Promise<z.infer<typeof RunListEntry>[]> {
    const file = await this.files.resolvePath(experimentPath, ['experimentPath']);
    const runsDir = runsDirOf(file);
    try {
      // a run is named by its id beside the experiment: the page gets no folder paths
      return (await listRuns(runsDir, (runJson) => this.outsideWorkspace(path.dirname(runJson), RUN_JSON))).map(({ dir: _dir, ...entry }) => entry);
    } catch (err) {
      throw new EngineError('INVALID_CONFIG', `${runsDir}: cannot be listed (${(err as Error).message})`, ['experimentPath']);
    }
  }

  async metrics(run: RunHandle, sinceStep?: number): Promise<MetricsPoint[]> {
    const { dir } = await this.runOf(run);
    const outside = await this.outsideWorkspace(dir, METRICS_FILE);
    if (outside) throw new EngineError('BAD_MESSAGE', outside, ['runId']);
    return readMetricsPoints(dir, sinceStep ?? 0);
  }

  /** runs.classificationReport: a fine-tuned classifier's last evaluation, read within the workspace like its curves. */
  async classificationReport(run: RunHandle): Promise<ClassificationReport | null> {
    const { dir } = await this.runOf(run);
    const outside = await this.outsideWorkspace(dir, CLASSIFICATION_REPORT_FILE);
    if (outside) throw new EngineError('BAD_MESSAGE', outside, ['runId']);
    try {
      return await readClassificationReport(dir);
    } catch (err) {
      throw new EngineError('INVALID_CONFIG', (err as Error).message, ['runId']);
    }
  }

  /** The experiment file (checked as any path a caller gives) and the run's folder beside it. */
  private async runOf(run: RunHandle): Promise<{ file: string; dir: string }> {
    const file = await this.files.resolvePath(run.experimentPath, ['experimentPath']);
    return { file, dir: runDirOf(file, run.runId) };
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
  async start(p: StartRunParams): Promise<{ runId: string }> {
    const { path: file, experiment } = await this.files.read(p.experimentPath);
    const { dataset, model, pretrain } = pretrainCellsOf(experiment, p.cellId, file);
    const baseDir = path.dirname(file);
    await this.checkDatasetPath(dataset.dataset.source, baseDir);
    const runId = newRunId();
    await this.startJob(runId, {
      kind: 'pretrain.start',
      name: experiment.name,
      dataset: dataset.dataset as unknown as Record<string, unknown>,
      tokenizer: dataset.tokenizer as unknown as Record<string, unknown>,
      model: model.model as unknown as Record<string, unknown>,
      pretrain: pretrain.pretrain as unknown as Record<string, unknown>,
      runsDir: runsDirOf(file),
      runId,
      baseDir,
      ...(p.backend ? { backend: p.backend } : {}),
      ...(p.steps ? { steps: p.steps } : {}),
    }, { kind: 'run', experimentPath: file, runId, runDir: runDirOf(file, runId), reported: false });
    return { runId };
  }

  /** runs.derive: a fine-tuning or compression run from a checkpoint of another run of the experiment (the engine checks both). */
  async derive(p: DeriveRunParams): Promise<{ runId: string }> {
    const { file, dir: baseRunDir } = await this.runOf({ experimentPath: p.experimentPath, runId: p.baseRunId });
    const outside = await this.outsideWorkspace(baseRunDir, RUN_JSON);
    if (outside) throw new EngineError('BAD_MESSAGE', outside, ['baseRunId']);
    const runId = newRunId();
    await this.startJob(runId, {
      kind: 'derived.start', name: p.name ?? `${p.task} of ${p.baseRunId}`, task: p.task, baseRunDir, baseCheckpoint: p.checkpoint,
      settings: p.settings, runsDir: runsDirOf(file), runId,
    }, { kind: 'run', experimentPath: file, runId, runDir: runDirOf(file, runId), reported: false });
    return { runId };
  }

  /** finetune.loraTargets: the target picker's answer for a run of the experiment (the engine reads its config, no weights). */
  async loraTargets(run: RunHandle, patterns?: string[]): Promise<LoraTargetsResult> {
    const { dir } = await this.runOf(run);
    return this.callJob<LoraTargetsResult>('lora-targets', { kind: 'finetune.loraTargets', runDir: dir, ...(patterns ? { patterns } : {}) }, 'the LoRA target list');
  }

  /** runs.resume: continues a stopped, failed or interrupted run from its newest valid checkpoint. */
  async resume(run: RunHandle): Promise<{ runId: string }> {
    const { file, dir } = await this.runOf(run);
    const outside = await this.outsideWorkspace(dir, RUN_JSON);
    if (outside) throw new EngineError('BAD_MESSAGE', outside, ['runId']);
    const json = await readRunJson(dir).catch((err: Error) => { throw new EngineError('INVALID_CONFIG', err.message, ['runId']); });
    if (json.status === 'completed') throw new EngineError('INVALID_CONFIG', `${dir}: this run completed all its steps; start a new run to train further`, ['runId']);
    if (this.jobs.has(run.runId)) throw new EngineError('BUSY', `${dir}: this run is training now`, ['runId']);
    await this.startJob(run.runId, { kind: 'pretrain.resume', runDir: dir }, { kind: 'run', experimentPath: file, runId: run.runId, runDir: dir, reported: false });
    return { runId: run.runId };
  }

  /** runs.control: pause and resume between steps; stop ends the run after the current step, with a checkpoint. */
  async control(run: RunHandle, action: 'pause' | 'resume' | 'stop'): Promise<Record<string, never>> {
    const { file } = await this.runOf(run);
    const job = this.jobs.get(run.runId);
    if (job?.kind !== 'run' || job.experimentPath !== file) {
      throw new EngineError('JOB_NOT_FOUND', `run '${run.runId}' of ${file} is not training now (it may have ended already)`, ['runId']);
    }
    await this.engine.request((c) => (action === 'stop' ? c.cancelJob(run.runId) : c.controlJob(run.runId, action)));
    return {};
  }

  /** dataset.preview, computed by the engine beside any training (it takes no device). */
  async preview(p: PreviewParams): Promise<DatasetPreview> {
    const baseDir = p.experimentPath
      ? path.dirname(await this.files.resolvePath(p.experimentPath, ['experimentPath']))
      : (this.files.workspaceRoot ?? os.homedir());
    const source = (p.dataset as { source?: { kind?: string; path?: string } }).source;
    if (source) await this.checkDatasetPath(source, baseDir);
    return this.callJob<DatasetPreview>('preview', { kind: 'dataset.preview', dataset: p.dataset, tokenizer: p.tokenizer, baseDir, samples: p.samples }, 'the preview');
  }

  /**
   * runs.import: a Hugging Face checkpoint folder into the experiment's runs folder, as a run of its own
   * that every view opens (browser mode: the folder must be inside the workspace, like any path).
   */
  async importCheckpoint(p: { experimentPath: string; sourceDir: string }): Promise<Omit<ModelImportResult, 'runDir'>> {
    const file = await this.files.resolvePath(p.experimentPath, ['experimentPath']);
    const sourceDir = await this.files.resolvePath(p.sourceDir, ['sourceDir']);
    const runId = newRunId();
    const { runDir: _runDir, ...result } = await this.callJob<ModelImportResult>('import', { kind: 'model.import', sourceDir, runsDir: runsDirOf(file), runId, name: path.basename(sourceDir) }, 'the import');
    return result;
  }

  /** runs.export: the run's checkpoint as a bundle, by default into bundles/RUN_ID beside the experiment (browser mode: inside the workspace, like any path). */
  async exportRun(p: RunHandle & { checkpoint: 'last' | 'best'; outDir?: string; overwrite: boolean }): Promise<BundleExportResult> {
    const { file, dir } = await this.runOf(p);
    const outside = await this.outsideWorkspace(dir, RUN_JSON);
    if (outside) throw new EngineError('BAD_MESSAGE', outside, ['runId']);
    const outDir = await this.files.resolvePath(p.outDir ?? path.join(path.dirname(file), BUNDLES_DIR, p.runId), ['outDir']);
    return this.callJob<BundleExportResult>('export', { kind: 'bundle.export', runDir: dir, checkpoint: p.checkpoint, outDir, overwrite: p.overwrite }, 'the export');
  }

  /** runs.exportTorch: the pretrain cell as saved, as a PyTorch project, by default into torch/CELL_ID beside the experiment (browser mode: inside the workspace). */
  async exportTorch(p: { experimentPath: string; cellId: string; outDir?: string; overwrite: boolean }): Promise<TorchExportResult> {
    const { path: file, experiment } = await this.files.read(p.experimentPath);
    const { dataset, model, pretrain } = pretrainCellsOf(experiment, p.cellId, file);
    const baseDir = path.dirname(file);
    await this.checkDatasetPath(dataset.dataset.source, baseDir);
    const outDir = await this.files.resolvePath(p.outDir ?? path.join(baseDir, TORCH_PROJECTS_DIR, pretrain.id), ['outDir']);
    return this.callJob<TorchExportResult>('torch', {
      kind: 'torch.export', name: experiment.name, baseDir, outDir, overwrite: p.overwrite, cellId: pretrain.id,
      dataset: dataset.dataset as unknown as Record<string, unknown>, tokenizer: dataset.tokenizer as unknown as Record<string, unknown>,
      model: model.model as unknown as Record<string, unknown>, pretrain: pretrain.pretrain as unknown as Record<string, unknown>,
    }, 'the PyTorch export');
  }

  /** Starts a job whose result the caller waits for. */
  private async callJob<R>(prefix: string, job: JobSpec, what: string): Promise<R> {
    const jobId = newJobId(prefix);
    const done = new Promise<R>((resolve, reject) => {
      this.jobs.set(jobId, { kind: 'call', what, settle: (o) => (o.ok ? resolve(o.result as R) : reject(o.error)) });
    });
    done.catch(() => undefined);
    await this.startJob(jobId, job, this.jobs.get(jobId)!);
    return done;
  }

  private startJob(jobId: string, job: JobSpec, tracked: TrackedJob): Promise<void> {
    return startTrackedJob(this.engine, this.jobs, jobId, job, tracked);
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
    const handle = job.kind === 'run' ? { experimentPath: job.experimentPath, runId: job.runId } : null;
    switch (event.type) {
      case 'onRunEvents':
        if (!handle || job.kind !== 'run') return;
        if (event.events.some((ev) => ev.type === 'status')) job.reported = true;
        this.emit('onRunEvents', { ...handle, events: event.events });
        return;
      case 'onJobDone':
        this.jobs.delete(jobId);
        if (job.kind === 'call') job.settle({ ok: true, result: event.result });
        else this.emit('onJobEnded', { ...handle!, outcome: 'done', summary: event.result as RunSummary });
        return;
      case 'onJobFailed':
        this.jobs.delete(jobId);
        if (job.kind === 'call') job.settle({ ok: false, error: toEngineError(event.error) });
        else this.emit('onJobEnded', { ...handle!, outcome: 'failed', error: event.error });
        return;
      case 'onJobCancelled':
        this.jobs.delete(jobId);
        if (job.kind === 'call') job.settle({ ok: false, error: new EngineError('JOB_CANCELLED', `${job.what} was cancelled`) });
        else this.emit('onJobEnded', { ...handle!, outcome: 'cancelled' });
        return;
      default:
    }
  }

  /** The engine is gone: every job of ours is over. A run that was training is marked interrupted, then reported. */
  private async onEngineExit(reason: string): Promise<void> {
    const lost = [...this.jobs.entries()];
    this.jobs.clear();
    for (const [, job] of lost) {
      const error: SerializedError = { code: 'INTERNAL', message: `${reason}; the job ended with it` };
      if (job.kind === 'call') {
        job.settle({ ok: false, error: toEngineError(error) });
        continue;
      }
      const handle = { experimentPath: job.experimentPath, runId: job.runId };
      if (job.reported) {
        await markInterrupted(job.runDir);
        error.message = `${reason}; the run stopped there, its checkpoints are kept — resume it to continue`;
        const status: RunEvent = { type: 'status', status: 'interrupted', runId: job.runId, runDir: job.runDir, message: error.message };
        this.emit('onRunEvents', { ...handle, events: [status] });
      }
      this.emit('onJobEnded', { ...handle, outcome: 'failed', error });
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
