/**
 * A run's folder, `<runsDir>/<RUN_ID>/`, and its run.json (schemas in common/runFolder.ts). The engine
 * creates and updates it itself, so a run is complete whoever started it; reading it, for the engine and
 * the host alike, is common/node/runFiles.ts.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { RUN_FORMAT, RUN_FORMAT_VERSION, RunId, RunJson, newRunId, type RunStatus } from '../../common/runFolder';
import type { BackendInfo } from '../../common/backends';
import type { SerializedError } from '../../common/errors';
import { fsyncDir, removeStaleTemps, writeJsonAtomic, writeJsonAtomicSync } from '../../common/node/atomicWrite';
import { CHECKPOINTS_DIR, METRICS_FILE, RUN_JSON, RunFileError, readRunJson } from '../../common/node/runFiles';
import { formatIssues } from '../../common/zodIssues';
import { RunLock } from '../../common/node/runLock';

// the host picks run ids too (runs.start), so the rule lives in common/
export { newRunId };

export interface CreateRunOptions {
  name: string;
  /** the experiment's cell configs this run was started from, kept as a snapshot */
  config: Record<string, unknown>;
  backend: BackendInfo;
  seed: number;
  /** default: newRunId() */
  id?: string;
}

/** The fields a trainer changes as it goes; format, id and creation time are fixed. */
export type RunPatch = Partial<Omit<RunJson, 'format' | 'version' | 'id' | 'created' | 'updated'>>;

/**
 * An open run folder: run.json in memory, every change written through atomically and in order. It is
 * the run's one writer from create/open to close (run.lock, see ./runLock).
 */
export class RunFolder {
  private state: RunJson;
  private writes: Promise<void> = Promise.resolve();

  private constructor(readonly dir: string, state: RunJson, private readonly lock: RunLock) {
    this.state = state;
  }

  get id(): string { return this.state.id; }
  /** a copy of run.json as last written (or being written) */
  get json(): RunJson { return structuredClone(this.state); }
  get checkpointsDir(): string { return path.join(this.dir, CHECKPOINTS_DIR); }
  get metricsFile(): string { return path.join(this.dir, METRICS_FILE); }

  /** Creates `<runsDir>/<id>/` with checkpoints/ and a run.json whose status is 'running'. */
  static async create(runsDir: string, opts: CreateRunOptions): Promise<RunFolder> {
    await fsp.mkdir(runsDir, { recursive: true });
    const wanted = opts.id;
    if (wanted !== undefined) {
      const ok = RunId.safeParse(wanted);
      if (!ok.success) throw new Error(`run id '${wanted}': ${ok.error.issues[0]?.message}`);
    }
    let id = wanted ?? newRunId();
    for (let attempt = 0; ; attempt++) {
      try {
        await fsp.mkdir(path.join(runsDir, id));
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (wanted !== undefined) throw new RunFileError(path.join(runsDir, id), 'already exists; choose another run id or open that run to resume it');
        if (attempt > 20) throw e;
        id = newRunId();
      }
    }
    const dir = path.join(runsDir, id);
    const lock = await RunLock.acquire(dir);
    await fsp.mkdir(path.join(dir, CHECKPOINTS_DIR));
    const now = new Date().toISOString();
    const state = RunJson.parse({
      format: RUN_FORMAT,
      version: RUN_FORMAT_VERSION,
      id,
      name: opts.name,
      created: now,
      updated: now,
      status: 'running',
      config: opts.config,
      backend: opts.backend,
      seed: opts.seed,
      step: 0,
      tokensSeen: 0,
      bestValLoss: null,
      lastCheckpoint: null,
    } satisfies RunJson);
    await writeJsonAtomic(path.join(dir, RUN_JSON), state);
    await fsyncDir(runsDir);
    return new RunFolder(dir, state, lock);
  }

  /**
   * Opens an existing run (to resume or to mark it), cleaning temporaries a crash left in its folder.
   * Refused (BUSY) while another process, or another trainer of this one, has the run open.
   */
  static async open(runDir: string): Promise<RunFolder> {
    const state = await readRunJson(runDir);
    const lock = await RunLock.acquire(runDir);
    try {
      await removeStaleTemps(runDir); // the lock makes this the one writer: what is left is a crash's
      await fsp.mkdir(path.join(runDir, CHECKPOINTS_DIR), { recursive: true });
    } catch (e) {
      await lock.release();
      throw e;
    }
    return new RunFolder(runDir, state, lock);
  }

  /** Writes what is pending and gives the run up to the next writer. */
  async close(): Promise<void> {
    await this.flush();
    await this.lock.release();
  }

  /** Gives the run up now, without waiting: for a process on its way out. */
  closeSync(): void {
    this.lock.releaseSync();
  }

  /**
   * Applies `patch` and rewrites run.json atomically. Updates are written in the order they were made;
   * an invalid patch is refused before anything is written.
   */
  update(patch: RunPatch): Promise<RunJson> {
    let next: RunJson;
    try {
      next = this.next(patch);
    } catch (e) {
      return Promise.reject(e);
    }
    this.state = next;
    const write = this.writes.then(() => writeJsonAtomic(path.join(this.dir, RUN_JSON), next));
    this.writes = write.catch(() => undefined); // one failed write must not block the ones after it
    return write.then(() => structuredClone(next));
  }

  /** The same, synchronously: for the last word of a process on its way out (an uncaught error, a signal). */
  updateSync(patch: RunPatch): RunJson {
    const next = this.next(patch);
    this.state = next;
    writeJsonAtomicSync(path.join(this.dir, RUN_JSON), next);
    return structuredClone(next);
  }

  setStatus(status: RunStatus, error?: SerializedError): Promise<RunJson> {
    return this.update({ status, ...(error ? { error } : {}) });
  }

  /** Resolves when every update made so far is on disk. */
  async flush(): Promise<void> {
    await this.writes;
  }

  private next(patch: RunPatch): RunJson {
    const r = RunJson.safeParse({ ...this.state, ...patch, updated: new Date().toISOString() });
    if (!r.success) throw new RunFileError(path.join(this.dir, RUN_JSON), `refused an update that would make it invalid: ${formatIssues(r.error)}`);
    return r.data;
  }
}
