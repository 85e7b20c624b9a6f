/**
 * The compress cell's comparison, host side: starts the engine's `compare.measure` job on a base run of an
 * experiment (its variants by run id, or every run derived from it), follows it with onCompareProgress /
 * onCompareEnded, cancels it, reads the table the engine writes into the base run (compare/comparison.json,
 * at most COMPARE_LIMITS.maxFileBytes) and exports it as CSV or JSON into comparisons/ beside the experiment.
 * The rows never travel in engine messages: the page re-reads the file when a progress event says a row landed.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { toEngineError } from '../../common/engineClient';
import { COMPARE_DIR, COMPARE_LIMITS, COMPARISON_JSON, Comparison, comparisonCsv } from '../../common/compare';
import { EngineError } from '../../common/errors';
import { runDirOf } from '../../common/experiment';
import { writeFileAtomic } from '../../common/node/atomicWrite';
import { RUN_JSON } from '../../common/node/runFiles';
import type { EngineEvent } from '../../common/protocol';
import type { PayloadOf, WorkbenchEvent } from '../../common/workbenchApi';
import { formatIssues } from '../../common/zodIssues';
import type { EngineSupervisor } from './engineSupervisor';
import type { ExperimentFiles } from './experimentFiles';
import type { RunHandle } from './runsService';
import { startTrackedJob } from './trackedJob';

type Emit = <E extends WorkbenchEvent>(event: E, payload: PayloadOf<E>) => void;

/** Where exported comparisons go, beside the experiment file. */
export const COMPARISONS_DIR = 'comparisons';

export interface CompareStart extends RunHandle {
  checkpoint?: string;
  variantRunIds?: string[];
  evalBatches?: number;
  batchSize?: number;
}

export class CompareService {
  private readonly jobs = new Map<string, RunHandle>();
  private readonly unsubscribe: () => void;

  constructor(private readonly engine: EngineSupervisor, private readonly files: ExperimentFiles, private readonly emit: Emit) {
    this.unsubscribe = engine.on((e) => {
      if (e.type === 'event') this.onEngineEvent(e.event);
      else if (e.type === 'exited') this.onEngineExit(e.reason);
    });
  }

  dispose(): void {
    this.unsubscribe();
    this.onEngineExit('the host is shutting down');
  }

  /** A run's folder of the experiment, checked as any path a caller gives (browser mode: inside the workspace). */
  private async runDir(experimentPath: string, runId: string, field = 'runId'): Promise<string> {
    const file = await this.files.resolvePath(experimentPath, ['experimentPath']);
    const dir = runDirOf(file, runId);
    const runJson = await this.files.resolvePath(path.join(dir, RUN_JSON), [field]);
    await fsp.access(runJson).catch(() => { throw new EngineError('INVALID_CONFIG', `'${runId}' is not a run of this experiment (${runJson} is missing); pick one of its runs`, [field]); });
    return dir;
  }

  async start(p: CompareStart): Promise<{ jobId: string }> {
    const baseRunDir = await this.runDir(p.experimentPath, p.runId);
    const variantRunDirs = p.variantRunIds ? await Promise.all(p.variantRunIds.map((id) => this.runDir(p.experimentPath, id, 'variantRunIds'))) : undefined;
    const jobId = `compare-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const job = {
      kind: 'compare.measure' as const, baseRunDir,
      ...(p.checkpoint ? { baseCheckpoint: p.checkpoint } : {}), ...(variantRunDirs ? { variantRunDirs } : {}),
      ...(p.evalBatches ? { evalBatches: p.evalBatches } : {}), ...(p.batchSize ? { batchSize: p.batchSize } : {}),
    };
    try {
      await startTrackedJob(this.engine, this.jobs, jobId, job, { experimentPath: p.experimentPath, runId: p.runId });
    } catch (err) {
      if (err instanceof EngineError && err.code === 'BUSY') throw new EngineError('BUSY', `the comparison runs the models on the engine, and ${err.message}; compare when it is free`, err.path);
      throw err;
    }
    return { jobId };
  }

  async cancel(jobId: string): Promise<Record<string, never>> {
    if (!this.jobs.has(jobId)) throw new EngineError('JOB_NOT_FOUND', `comparison '${jobId}' is not running (it may have ended already)`, ['jobId']);
    await this.engine.request((c) => c.cancelJob(jobId));
    return {};
  }

  /** The base run's comparison.json, checked; null when there is none yet. */
  async read(run: RunHandle): Promise<Comparison | null> {
    const dir = await this.runDir(run.experimentPath, run.runId);
    const file = path.join(dir, COMPARE_DIR, COMPARISON_JSON);
    let text: string;
    try {
      await this.files.resolvePath(file, ['runId']);
      const stat = await fsp.stat(file);
      if (stat.size > COMPARE_LIMITS.maxFileBytes) throw new EngineError('INVALID_CONFIG', `${file}: is ${stat.size} bytes, over the ${COMPARE_LIMITS.maxFileBytes} a comparison can be; measure it again`, ['runId']);
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new EngineError('INVALID_CONFIG', `${file}: is not JSON (${(err as Error).message}); measure the comparison again`, ['runId']);
    }
    const parsed = Comparison.safeParse(json);
    if (!parsed.success) throw new EngineError('INVALID_CONFIG', `${file}: is not a comparison this workbench reads (${formatIssues(parsed.error)}); measure it again`, ['runId']);
    return parsed.data;
  }

  /** comparisons/BASE_RUN_ID.comparison.csv (or .json) beside the experiment, written atomically. */
  async export(run: RunHandle & { format: 'csv' | 'json' }): Promise<{ path: string; bytes: number }> {
    const comparison = await this.read(run);
    if (!comparison) throw new EngineError('INVALID_CONFIG', `run '${run.runId}' has no comparison yet; press Compare first`, ['runId']);
    const experiment = await this.files.resolvePath(run.experimentPath, ['experimentPath']);
    const target = await this.files.resolvePath(path.join(path.dirname(experiment), COMPARISONS_DIR, `${run.runId}.comparison.${run.format}`), ['format']);
    const text = run.format === 'csv' ? comparisonCsv(comparison) : `${JSON.stringify(comparison, null, 2)}\n`;
    await fsp.mkdir(path.dirname(target), { recursive: true });
    await writeFileAtomic(target, text);
    return { path: target, bytes: Buffer.byteLength(text) };
  }

  private onEngineEvent(event: EngineEvent): void {
    if (!('jobId' in event) || event.jobId === undefined) return;
    const run = this.jobs.get(event.jobId);
    if (!run) return;
    const jobId = event.jobId;
    const ended = (outcome: 'done' | 'failed' | 'cancelled', error?: EngineError) => {
      this.jobs.delete(jobId);
      this.emit('onCompareEnded', { jobId, ...run, outcome, ...(error ? { error: error.toJSON() } : {}) });
    };
    switch (event.type) {
      case 'onJobProgress':
        this.emit('onCompareProgress', { jobId, ...run, done: event.step, total: event.total, message: event.message ?? null });
        return;
      case 'onJobDone': ended('done'); return;
      case 'onJobFailed': ended('failed', toEngineError(event.error)); return;
      case 'onJobCancelled': ended('cancelled'); return;
      default:
    }
  }

  private onEngineExit(reason: string): void {
    for (const [jobId, run] of [...this.jobs]) {
      this.jobs.delete(jobId);
      this.emit('onCompareEnded', { jobId, ...run, outcome: 'failed', error: new EngineError('INTERNAL', `${reason}; the comparison was not finished (its rows so far are in the file)`).toJSON() });
    }
  }
}
