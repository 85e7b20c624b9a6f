/**
 * The inspect cell's host side: the run's checkpoints, and the attention maps of a text at them. The engine
 * computes maps into the run's inspect cache (its `inspect.attention` job); the host reads the cache
 * (common/node/inspectCache.ts) and hands the page only what a view needs — every head as a thumbnail for
 * the model view, one head's full map on demand — so no message comes near the size limits (one head at
 * 512 tokens is 1 MiB). What is cached already is served without the engine, so a model can be inspected
 * while another one trains. A replay over every kept checkpoint is a job the page follows by events and
 * may cancel.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { AttentionStatsLine, HEAD_STATISTICS } from '../../common/attentionMaps';
import { toEngineError } from '../../common/engineClient';
import { EngineError } from '../../common/errors';
import { runDirOf } from '../../common/experiment';
import {
  type CheckpointRef, type HeadHistory, type InspectAttentionResult, type InspectCheckpoints, type InspectHead, type InspectInput,
  type InspectMeta, type InspectOverview, MAX_HISTORY_POINTS, THUMB_SIZE, downsampleMap, quantizeThumb, toBase64,
} from '../../common/inspect';
import { INSPECT_DIR, inspectKey, listInspectCheckpoints, readInspectHeads, readInspectMeta } from '../../common/node/inspectCache';
import { ATTENTION_STATS_FILE, RUN_JSON, readMetricsPoints } from '../../common/node/runFiles';
import type { EngineEvent } from '../../common/protocol';
import type { PayloadOf, WorkbenchEvent } from '../../common/workbenchApi';
import type { EngineSupervisor } from './engineSupervisor';
import type { ExperimentFiles } from './experimentFiles';
import { startTrackedJob } from './trackedJob';
import type { RunHandle } from './runsService';

type Emit = <E extends WorkbenchEvent>(event: E, payload: PayloadOf<E>) => void;

/** attention-stats.jsonl is read up to this many bytes (its newest lines are dropped past it, said in the log). */
export const MAX_STATS_FILE_BYTES = 64 * 1024 * 1024;

interface TrackedInspect {
  run: RunHandle;
  /** a replay the page follows by events; a view's computation is awaited instead */
  replay: boolean;
  settle: (outcome: { ok: true; result: InspectAttentionResult } | { ok: false; error: EngineError }) => void;
}

/** The input part of a call's params. */
export const inputOf = (p: { text: string; pair?: string }): InspectInput => ({ text: p.text, ...(p.pair !== undefined ? { pair: p.pair } : {}) });

/** Evenly spread indices of `n` items, at most `max`, first and last kept. */
export function thinned(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.round((i * (n - 1)) / (max - 1)));
}

/** The model view's payload from a cache entry: every head's S×S block means, each scaled to its maximum. */
export async function overviewOf(runDir: string, key: string, meta: InspectMeta): Promise<InspectOverview> {
  const S = Math.min(meta.T, THUMB_SIZE);
  const thumbs = new Uint8Array(meta.layers * meta.heads * S * S);
  const thumbMax = Array.from({ length: meta.layers }, () => new Array<number>(meta.heads).fill(0));
  await readInspectHeads(runDir, key, meta, (l, h, map) => {
    const q = quantizeThumb(downsampleMap(map, meta.T, S));
    thumbs.set(q.bytes, (l * meta.heads + h) * S * S);
    thumbMax[l][h] = q.max;
  });
  const { format: _f, version: _v, ...rest } = meta;
  return { ...rest, thumbSize: S, thumbs: toBase64(thumbs), thumbMax };
}

export class InspectService {
  private readonly jobs = new Map<string, TrackedInspect>();
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

  /** The run's folder, checked as any path a caller gives (browser mode: inside the workspace, links included). */
  private async runDir(run: RunHandle): Promise<string> {
    const file = await this.files.resolvePath(run.experimentPath, ['experimentPath']);
    const dir = runDirOf(file, run.runId);
    for (const name of [RUN_JSON, INSPECT_DIR, 'checkpoints']) await this.files.resolvePath(path.join(dir, name), ['runId']);
    return dir;
  }

  async checkpoints(run: RunHandle): Promise<InspectCheckpoints> {
    const dir = await this.runDir(run);
    const listed = await listInspectCheckpoints(dir);
    if (!listed.checkpoints.length) throw new EngineError('INVALID_CONFIG', `run '${run.runId}' has no checkpoint yet; its first comes at a checkpoint interval, a new best evaluation or its end`, ['runId']);
    return listed;
  }

  /** The cache entry of `input` at `ref`, computed by the engine when it is not there yet. */
  private async entry(run: RunHandle, ref: CheckpointRef, input: InspectInput): Promise<{ dir: string; key: string; meta: InspectMeta }> {
    const dir = await this.runDir(run);
    const listed = await listInspectCheckpoints(dir);
    const name = ref === 'last' ? listed.last : ref === 'best' ? listed.best : listed.checkpoints.find((c) => c.name === ref)?.name ?? null;
    if (name) {
      const key = await inspectKey(dir, name, input);
      const meta = await readInspectMeta(dir, key);
      if (meta) return { dir, key, meta };
    }
    const { entries } = await (await this.start(run, dir, [ref], input, false)).done;
    const meta = await readInspectMeta(dir, entries[0].key);
    if (!meta) throw new EngineError('INTERNAL', `the engine computed the maps at ${entries[0].checkpoint} but its cache entry ${entries[0].key} cannot be read`);
    return { dir, key: entries[0].key, meta };
  }

  /** inspect.open: the model view of `input` at a checkpoint (computed there first when needed). */
  async open(run: RunHandle, ref: CheckpointRef, input: InspectInput): Promise<InspectOverview> {
    const { dir, key, meta } = await this.entry(run, ref, input);
    return overviewOf(dir, key, meta);
  }

  /** inspect.head: one head's full map at a checkpoint. */
  async head(run: RunHandle, ref: CheckpointRef, input: InspectInput, layer: number, head: number): Promise<InspectHead> {
    const { dir, key, meta } = await this.entry(run, ref, input);
    if (layer >= meta.layers || head >= meta.heads) {
      throw new EngineError('INVALID_CONFIG', `layer ${layer} head ${head} is not in this model (${meta.layers} layers × ${meta.heads} heads; both count from 0)`, [layer >= meta.layers ? 'layer' : 'head']);
    }
    let data = '';
    await readInspectHeads(dir, key, meta, (_l, _h, map) => { data = toBase64(new Uint8Array(map.buffer, map.byteOffset, map.byteLength)); }, { layer, head });
    return { checkpoint: meta.checkpoint, step: meta.step, layer, head, T: meta.T, data };
  }

  /** inspect.replay: the maps of `input` at every kept checkpoint, as a job followed by onInspectProgress / onInspectEnded. */
  async replay(run: RunHandle, input: InspectInput): Promise<{ jobId: string; checkpoints: InspectCheckpoints['checkpoints'] }> {
    const dir = await this.runDir(run);
    const { checkpoints } = await this.checkpoints(run);
    const { jobId, done } = await this.start(run, dir, checkpoints.map((c) => c.name), input, true);
    done.catch(() => undefined); // its end goes out as onInspectEnded
    return { jobId, checkpoints };
  }

  async cancel(jobId: string): Promise<Record<string, never>> {
    if (!this.jobs.has(jobId)) throw new EngineError('JOB_NOT_FOUND', `inspect job '${jobId}' is not running (it may have ended already)`, ['jobId']);
    await this.engine.request((c) => c.cancelJob(jobId));
    return {};
  }

  /** inspect.headHistory: one head's statistics at every evaluation of the run (attention-stats.jsonl), thinned to MAX_HISTORY_POINTS. */
  async headHistory(run: RunHandle, layer: number, head: number): Promise<HeadHistory> {
    const dir = await this.runDir(run);
    const file = path.join(dir, ATTENTION_STATS_FILE);
    await this.files.resolvePath(file, ['runId']);
    let text = '';
    try {
      const fh = await fsp.open(file, 'r');
      try {
        const buf = Buffer.alloc(Math.min((await fh.stat()).size, MAX_STATS_FILE_BYTES));
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        text = buf.subarray(0, bytesRead).toString('utf8');
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new EngineError('INVALID_CONFIG', `${file}: cannot be read (${(err as Error).message})`, ['runId']);
    }
    const lines: AttentionStatsLine[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = AttentionStatsLine.safeParse(JSON.parse(line));
        if (r.success) lines.push(r.data);
      } catch {
        // a line cut short by a kill, or by the byte bound: the rest still charts
      }
    }
    const picked = thinned(lines.length, MAX_HISTORY_POINTS).map((i) => lines[i]);
    const series: HeadHistory['series'] = {};
    for (const stat of HEAD_STATISTICS) {
      const values = picked.map((l) => l.stats[stat]?.[layer]?.[head] ?? null);
      if (values.some((v) => v !== null)) series[stat] = values;
    }
    // the validation loss at the same evaluations: a head forming beside the loss bending
    const valLoss = new Map((await readMetricsPoints(dir).catch(() => [])).flatMap((p) => (typeof p.scalars['val/loss'] === 'number' ? [[p.step, p.scalars['val/loss']] as const] : [])));
    return { steps: picked.map((l) => l.step), series, valLoss: picked.map((l) => valLoss.get(l.step) ?? null) };
  }

  /** Starts an inspect.attention job; resolves once the engine took it, with the job's outcome to await. */
  private async start(run: RunHandle, runDir: string, checkpoints: CheckpointRef[], input: InspectInput, replay: boolean): Promise<{ jobId: string; done: Promise<InspectAttentionResult> }> {
    const jobId = `inspect-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    // tracked before the engine hears of it: its first events may come right after the reply
    let settle!: (o: { ok: true; result: InspectAttentionResult } | { ok: false; error: EngineError }) => void;
    const done = new Promise<InspectAttentionResult>((resolve, reject) => {
      settle = (o) => (o.ok ? resolve(o.result) : reject(o.error));
    });
    done.catch(() => undefined);
    const job = { kind: 'inspect.attention' as const, runDir, checkpoints, text: input.text, ...(input.pair !== undefined ? { pair: input.pair } : {}) };
    try {
      await startTrackedJob(this.engine, this.jobs, jobId, job, { run: { experimentPath: run.experimentPath, runId: run.runId }, replay, settle });
    } catch (err) {
      if (err instanceof EngineError && err.code === 'BUSY') throw new EngineError('BUSY', `the attention maps are computed by the engine, and ${err.message}; maps computed before still open`, err.path);
      throw err;
    }
    return { jobId, done };
  }

  private onEngineEvent(event: EngineEvent): void {
    if (!('jobId' in event) || event.jobId === undefined) return;
    const job = this.jobs.get(event.jobId);
    if (!job) return;
    const jobId = event.jobId;
    const ended = (outcome: 'done' | 'failed' | 'cancelled', error?: EngineError) => {
      this.jobs.delete(jobId);
      if (job.replay) this.emit('onInspectEnded', { jobId, ...job.run, outcome, ...(error ? { error: error.toJSON() } : {}) });
    };
    switch (event.type) {
      case 'onJobProgress':
        if (job.replay) this.emit('onInspectProgress', { jobId, ...job.run, done: event.step, total: event.total, checkpoint: event.message ?? null });
        return;
      case 'onJobDone':
        ended('done');
        job.settle({ ok: true, result: event.result as InspectAttentionResult });
        return;
      case 'onJobFailed': {
        const error = toEngineError(event.error);
        ended('failed', error);
        job.settle({ ok: false, error });
        return;
      }
      case 'onJobCancelled': {
        const error = new EngineError('JOB_CANCELLED', 'the attention maps were cancelled');
        ended('cancelled');
        job.settle({ ok: false, error });
        return;
      }
      default:
    }
  }

  private onEngineExit(reason: string): void {
    for (const [jobId, job] of [...this.jobs]) {
      const error = new EngineError('INTERNAL', `${reason}; the attention maps were not finished`);
      this.jobs.delete(jobId);
      if (job.replay) this.emit('onInspectEnded', { jobId, ...job.run, outcome: 'failed', error: error.toJSON() });
      job.settle({ ok: false, error });
    }
  }
}
