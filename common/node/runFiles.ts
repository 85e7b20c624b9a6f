/**
 * Reading a run folder, `<experiment>.runs/<RUN_ID>/` (schemas in ../runFolder.ts), for the engine and the
 * host alike: run.json, the listing of an experiment's runs, metrics.jsonl as chart points. Writing is the
 * engine's (engine/runs/runFolder.ts); a file that cannot be used is a RunFileError naming it and the fix.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MetricsLine, RUN_FORMAT_VERSION, RunJson, decodeScalar } from '../runFolder';
import type { MetricsPoint } from '../workbenchApi';
import { formatIssues } from '../zodIssues';
import { readdirEntriesIfExists } from './readdirIfExists';
import { hasLiveWriter } from './runLock';

export const RUN_JSON = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';
/** the run's trained tokenizer, in Hugging Face's tokenizer.json format */
export const TOKENIZER_FILE = 'tokenizer.json';
/** head statistics on the run's probe set, one line per evaluation (AttentionStatsLine in ../attentionMaps.ts) */
export const ATTENTION_STATS_FILE = 'attention-stats.jsonl';

/** A run-folder file that cannot be used; the message names the file and says what to do. */
export class RunFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'RunFileError';
  }
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RunFileError(file, `missing; ${what}`);
    throw new RunFileError(file, `cannot be read (${(e as Error).message})`);
  }
}

/** Reads and validates run.json; a missing, unparsable or invalid file is a RunFileError that says why. */
export async function readRunJson(runDir: string): Promise<RunJson> {
  const file = path.join(runDir, RUN_JSON);
  const text = await readText(file, 'this folder is not a run, or its creation was cut short; delete the folder if it holds nothing you need');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new RunFileError(file, `is not valid JSON (${(e as Error).message}); restore it from a backup or delete the run folder`);
  }
  const r = RunJson.safeParse(raw);
  if (!r.success) {
    const version = (raw as { version?: unknown } | null)?.version;
    if (typeof version === 'number' && version > RUN_FORMAT_VERSION) {
      throw new RunFileError(file, `was written by a newer Transformer Workbench (run format ${version}; this one reads ${RUN_FORMAT_VERSION}); update the workbench to open it`);
    }
    throw new RunFileError(file, `does not match the run format: ${formatIssues(r.error)}; fix the field or delete the run folder`);
  }
  return r.data;
}

/**
 * The run as it stands: run.json says 'running' until its process writes otherwise, and a killed process
 * never does; without a live writer holding the run's lock, such a run is 'interrupted' (resumable).
 */
export async function withLiveStatus(runDir: string, run: RunJson): Promise<RunJson> {
  if (run.status !== 'running' || (await hasLiveWriter(runDir))) return run;
  return { ...run, status: 'interrupted' };
}

/** One entry of listRuns: a run, or the reason its folder could not be read. */
export type RunListing =
  | { id: string; dir: string; ok: true; run: RunJson }
  | { id: string; dir: string; ok: false; problem: string };

/**
 * Every run folder under `runsDir`, by id (so oldest first with generated ids), with its live status
 * (withLiveStatus); one unreadable run.json is reported and never hides the others. A missing runsDir has none. `canRead(dir)` may refuse a folder
 * (browser mode: a run folder linked out of the workspace) with the reason.
 */
export async function listRuns(runsDir: string, canRead: (runJsonFile: string) => Promise<string | null> = async () => null): Promise<RunListing[]> {
  const entries = await readdirEntriesIfExists(runsDir);
  const ids = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  return Promise.all(ids.map(async (id): Promise<RunListing> => {
    const dir = path.join(runsDir, id);
    try {
      const refused = await canRead(path.join(dir, RUN_JSON));
      if (refused) return { id, dir, ok: false, problem: refused };
      const run = await readRunJson(dir);
      if (run.id !== id) return { id, dir, ok: false, problem: `${path.join(dir, RUN_JSON)}: names run '${run.id}' but lies in folder '${id}'; rename the folder back to '${run.id}'` };
      return { id, dir, ok: true, run: await withLiveStatus(dir, run) };
    } catch (e) {
      return { id, dir, ok: false, problem: (e as Error).message };
    }
  }));
}

/** metrics.jsonl as chart points from `sinceStep` on: a torn last line (a write cut short) and unreadable lines are skipped. */
export async function readMetricsPoints(runDir: string, sinceStep = 0): Promise<MetricsPoint[]> {
  const file = path.join(runDir, METRICS_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new RunFileError(file, `cannot be read (${(err as Error).message})`);
  }
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a torn line
  const out: MetricsPoint[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      continue;
    }
    const r = MetricsLine.safeParse(raw);
    if (!r.success || r.data.step < sinceStep) continue;
    const scalars: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(r.data.scalars)) {
      const x = decodeScalar(v);
      scalars[k] = Number.isFinite(x) ? x : null;
    }
    out.push({ step: r.data.step, wallTime: r.data.wallTime, tokens: r.data.tokens, scalars });
  }
  return out;
}
