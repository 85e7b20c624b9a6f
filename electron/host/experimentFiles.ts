/**
 * Experiment files on disk, as the host keeps them: open (parse, migrate, validate), save (atomic, refused
 * when another writer changed the file since it was opened), the recent list, the example templates, and —
 * in browser mode — the experiments of a workspace folder, outside which no path is accepted.
 *
 * A file the host cannot read (not JSON, not an experiment, written by a newer version) is refused with a
 * message naming the file and the problem, and is never overwritten afterwards: its bytes may be someone's
 * work that a newer app, or a person with an editor, can still recover.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EngineError } from '../../common/errors';
import { EXPERIMENT_SUFFIX, parseExperiment, previewsOfV1, type Experiment, type ExperimentInput } from '../../common/experiment';
import { formatJsonDocument } from '../../common/jsonFormat';
import {
  DatasetCellSummary, MAX_WORKBENCH_STATE_BYTES, emptyWorkbenchState, parseWorkbenchState, workbenchStatePath, type WorkbenchState,
} from '../../common/workbenchState';
import { removeDeadWritersTemps, writeFileAtomic, writeJsonAtomic } from '../../common/node/atomicWrite';
import { jsonProblem } from './jsonProblem';

/** the repository's experiments/ folder: templates are read from it when asked for, not bundled */
export const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL('../../experiments/', import.meta.url));
export const RECENT_LIMIT = 20;
/** an experiment file is configs and notes; anything this big is not one */
const MAX_EXPERIMENT_BYTES = 32 * 1024 * 1024;
const LIST_MAX_DEPTH = 6;
const LIST_MAX_FILES = 1000;

export function defaultConfigDir(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'transformer-workbench');
}

export interface ExperimentFilesOptions {
  /** where recent.json lives; default ~/.config/transformer-workbench (XDG_CONFIG_HOME respected) */
  configDir?: string;
  /** the example experiments; default the repository's experiments/ */
  templatesDir?: string;
  /** browser mode: every path must resolve (symbolic links followed) inside this folder; relative paths are taken from it */
  workspaceRoot?: string | null;
}

const RecentFile = z.object({ version: z.literal(1), paths: z.array(z.string()) });

const fail = (code: EngineError['code'], message: string, where: (string | number)[] = ['path']) => new EngineError(code, message, where);

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** realpath of the longest existing prefix, joined with the rest: where a not-yet-existing path would land. */
async function realpathLoose(p: string): Promise<string> {
  const rest: string[] = [];
  let at = p;
  for (;;) {
    try {
      return path.join(await fsp.realpath(at), ...rest.reverse());
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT' && errnoOf(err) !== 'ENOTDIR') throw err;
      const parent = path.dirname(at);
      if (parent === at) return p;
      rest.push(path.basename(at));
      at = parent;
    }
  }
}

export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export class ExperimentFiles {
  readonly configDir: string;
  readonly templatesDir: string;
  readonly workspaceRoot: string | null;
  /** files refused on open, by resolved path, with the reason: never written */
  private readonly refused = new Map<string, string>();
  private recentWrites: Promise<void> = Promise.resolve();

  constructor(opts: ExperimentFilesOptions = {}) {
    this.configDir = opts.configDir ?? defaultConfigDir();
    this.templatesDir = opts.templatesDir ?? DEFAULT_TEMPLATES_DIR;
    this.workspaceRoot = opts.workspaceRoot ? path.resolve(opts.workspaceRoot) : null;
  }

  /**
   * A path the caller gave, made absolute and checked: in browser mode it must lie inside the workspace
   * once symbolic links are followed (`..`, absolute paths elsewhere and links out are all refused).
   */
  async resolvePath(p: string, field: (string | number)[] = ['path']): Promise<string> {
    if (p.includes('\0')) throw fail('BAD_MESSAGE', 'a path cannot contain a NUL character', field);
    if (!this.workspaceRoot) return path.resolve(p);
    const root = await fsp.realpath(this.workspaceRoot).catch(() => this.workspaceRoot!);
    const real = await realpathLoose(path.resolve(root, p));
    if (!isInside(root, real)) {
      throw fail('BAD_MESSAGE', `${p}: is outside the workspace ${root}; only files inside it can be opened or written in browser mode`, field);
    }
    return real;
  }

  /** Reads an experiment without remembering anything: what runs.start and dataset preview use. */
  async read(p: string): Promise<{ path: string; experiment: Experiment; input: ExperimentInput; raw: unknown; migratedFrom?: number; mtimeMs: number }> {
    const file = await this.resolvePath(p);
    let text: string;
    let mtimeMs: number;
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(file, 'r');
    } catch (err) {
      const code = errnoOf(err);
      throw fail('INVALID_CONFIG', code === 'ENOENT' ? `${file}: no such file` : code === 'EISDIR' ? `${file}: is a folder, not an experiment file` : `${file}: cannot be read (${(err as Error).message})`);
    }
    try {
      // the time is taken before the bytes: a write in between then shows as a conflict on save, never as a lost change
      const st = await fh.stat();
      if (st.isDirectory()) throw fail('INVALID_CONFIG', `${file}: is a folder, not an experiment file`);
      if (st.size > MAX_EXPERIMENT_BYTES) throw fail('INVALID_CONFIG', `${file}: is ${st.size} bytes, too large to be an experiment file (at most ${MAX_EXPERIMENT_BYTES})`);
      mtimeMs = st.mtimeMs;
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw this.refuse(file, `is not valid JSON (${jsonProblem(err)})`);
    }
    const r = parseExperiment(raw);
    if (!r.ok) throw this.refuse(file, r.error);
    this.refused.delete(file);
    return { path: file, experiment: r.value, input: r.input, raw, mtimeMs, ...(r.migratedFrom !== undefined ? { migratedFrom: r.migratedFrom } : {}) };
  }

  private refuse(file: string, problem: string): EngineError {
    this.refused.set(file, problem);
    return fail('INVALID_CONFIG', `${file}: ${problem}\nThe file was not changed, and the workbench will not write over it.`);
  }

  /**
   * experiments.open: reads, migrates, validates; remembers the file in the recent list. The document goes
   * out as written (migrated, no defaults added), with the state kept beside it.
   */
  async open(p: string): Promise<{ path: string; doc: Record<string, unknown>; migratedFrom?: number; mtimeMs: number; state: WorkbenchState; stateWarning?: string }> {
    const r = await this.read(p);
    await this.addRecent(r.path);
    const { state, warning } = await this.readState(r.path);
    // a version 1 file kept its previews in itself: they move beside it (written with the next state save)
    if (r.migratedFrom === 1) {
      for (const [cellId, summary] of Object.entries(previewsOfV1(r.raw as Record<string, unknown>))) {
        const ok = DatasetCellSummary.safeParse(summary);
        if (ok.success && !(cellId in state.previews)) state.previews[cellId] = ok.data;
      }
    }
    return {
      path: r.path, doc: r.input as unknown as Record<string, unknown>, mtimeMs: r.mtimeMs, state,
      ...(r.migratedFrom !== undefined ? { migratedFrom: r.migratedFrom } : {}),
      ...(warning ? { stateWarning: warning } : {}),
    };
  }

  /**
   * NAME.runs/workbench-state.json of an experiment file: the state, empty when there is none; a damaged
   * or oversized one is ignored with a warning naming it (it is only a cache and UI choices, and is
   * replaced by the next save).
   */
  async readState(file: string): Promise<{ state: WorkbenchState; warning?: string }> {
    const stateFile = workbenchStatePath(file);
    const ignored = (why: string) => ({ state: emptyWorkbenchState(), warning: `${stateFile}: ${why}; it is ignored (the previews and overlay choices it held are lost, and it is rewritten when they change)` });
    let text: string;
    try {
      const real = await this.resolvePath(stateFile, ['path']);
      const st = await fsp.stat(real);
      if (st.size > MAX_WORKBENCH_STATE_BYTES) return ignored(`is ${st.size} bytes, over the limit of ${MAX_WORKBENCH_STATE_BYTES}`);
      text = await fsp.readFile(real, 'utf8');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return { state: emptyWorkbenchState() };
      return ignored(`cannot be read (${(err as Error).message.split('\n')[0]})`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return ignored(`is not valid JSON (${jsonProblem(err)})`);
    }
    const r = parseWorkbenchState(raw);
    return r.ok ? { state: r.value } : ignored(`does not match the state format: ${r.problem}`);
  }

  /** experiments.saveState: replaces the state beside a saved experiment file, atomically. */
  async saveState(p: string, state: WorkbenchState): Promise<Record<string, never>> {
    const file = await this.resolvePath(p);
    try {
      if (!(await fsp.stat(file)).isFile()) throw new Error('not a file');
    } catch {
      throw fail('INVALID_CONFIG', `${file}: no such experiment file; save the experiment before its previews and choices can be kept beside it`);
    }
    const target = await this.resolvePath(workbenchStatePath(file));
    await fsp.mkdir(path.dirname(target), { recursive: true });
    await writeJsonAtomic(target, state);
    return {};
  }

  /**
   * experiments.save: validates the document and replaces the file atomically. Only NAME.experiment.json
   * files are written, and an existing file that is not a readable experiment never is, whatever the
   * caller says. With `expectedMtimeMs` (the mtimeMs open or the last save returned) a file changed since
   * is refused; without it the save replaces the experiment that is there.
   */
  async save(p: string, doc: Record<string, unknown>, expectedMtimeMs?: number): Promise<{ path: string; mtimeMs: number }> {
    const file = await this.resolvePath(p);
    if (!path.basename(file).endsWith(EXPERIMENT_SUFFIX) || path.basename(file) === EXPERIMENT_SUFFIX) {
      throw fail('INVALID_CONFIG', `${file}: experiment files are named NAME${EXPERIMENT_SUFFIX}; save as ${path.basename(file).replace(/\.json$/, '') || 'experiment'}${EXPERIMENT_SUFFIX}`, ['path']);
    }
    const refusedFor = this.refused.get(file);
    if (refusedFor !== undefined) {
      throw fail('INVALID_CONFIG', `${file}: was refused when it was opened (${refusedFor.split('\n')[0]}); the workbench never writes over a file it could not read — save under another name`);
    }
    const r = parseExperiment(doc);
    if (!r.ok) throw fail('INVALID_CONFIG', `the experiment cannot be saved: ${r.error}`, ['doc']);
    let existing: { mtimeMs: number } | null = null;
    try {
      const st = await fsp.stat(file);
      if (st.isDirectory()) throw fail('INVALID_CONFIG', `${file}: is a folder`);
      existing = { mtimeMs: st.mtimeMs };
    } catch (err) {
      if (err instanceof EngineError) throw err;
      if (errnoOf(err) !== 'ENOENT') throw fail('INVALID_CONFIG', `${file}: cannot be checked before writing (${(err as Error).message})`);
      try {
        await fsp.access(path.dirname(file));
      } catch {
        throw fail('INVALID_CONFIG', `${path.dirname(file)}: no such folder; create it first or save elsewhere`);
      }
    }
    if (existing) {
      if (expectedMtimeMs !== undefined && existing.mtimeMs !== expectedMtimeMs) {
        throw fail('BUSY', `${file}: changed on disk since it was opened (another program or window wrote it); reopen it to see those changes, or save again without the check to replace them`, ['expectedMtimeMs']);
      }
      // only over a file we can read ourselves, even when the caller's mtime matches: a guessed mtime
      // must not turn a save into a way to overwrite any file
      try {
        await this.read(file);
      } catch (err) {
        throw fail('INVALID_CONFIG', `${file}: exists and is not an experiment this workbench can read, so it is not written over (${(err as Error).message.split('\n')[0]})`);
      }
    }
    // what the user wrote (migrated, nothing added), laid out as such files are written by hand
    // a save killed between its write and its rename left a temporary beside the file: the next save clears it
    await removeDeadWritersTemps(file).catch(() => undefined);
    await writeFileAtomic(file, formatJsonDocument(r.input));
    const mtimeMs = (await fsp.stat(file)).mtimeMs;
    await this.addRecent(file);
    return { path: file, mtimeMs };
  }

  // ---------------------------------------------------------------------------------------------------
  // recent files

  private get recentFile(): string { return path.join(this.configDir, 'recent.json'); }

  private async readRecent(): Promise<string[]> {
    try {
      const r = RecentFile.safeParse(JSON.parse(await fsp.readFile(this.recentFile, 'utf8')));
      return r.success ? r.data.paths : [];
    } catch {
      return []; // missing or damaged: the list starts again, nothing else depends on it
    }
  }

  private addRecent(file: string): Promise<void> {
    const write = this.recentWrites.then(async () => {
      const paths = [file, ...(await this.readRecent()).filter((p) => p !== file)].slice(0, RECENT_LIMIT);
      await fsp.mkdir(this.configDir, { recursive: true });
      await writeJsonAtomic(this.recentFile, { version: 1, paths });
    });
    // a read-only config folder must not stop a file from opening or saving
    this.recentWrites = write.catch(() => undefined);
    return this.recentWrites;
  }

  /** experiments.recent: newest first, files that still exist (and, in browser mode, lie in the workspace). */
  async recent(): Promise<string[]> {
    await this.recentWrites;
    const out: string[] = [];
    for (const p of await this.readRecent()) {
      try {
        if (!(await fsp.stat(p)).isFile()) continue;
        if (this.workspaceRoot) await this.resolvePath(p);
        out.push(p);
      } catch { /* gone or outside */ }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------------
  // templates

  async templates(): Promise<{ id: string; name: string; description: string; experiment: ExperimentInput }[]> {
    let names: string[];
    try {
      names = (await fsp.readdir(this.templatesDir)).filter((n) => n.endsWith(EXPERIMENT_SUFFIX)).sort();
    } catch {
      return [];
    }
    const out: { id: string; name: string; description: string; experiment: ExperimentInput }[] = [];
    for (const n of names) {
      try {
        const r = parseExperiment(JSON.parse(await fsp.readFile(path.join(this.templatesDir, n), 'utf8')));
        if (!r.ok) continue; // a broken template is a bug of the repository, not the user's problem
        out.push({ id: n.slice(0, -EXPERIMENT_SUFFIX.length), name: r.value.name, description: r.value.description ?? '', experiment: r.input });
      } catch { /* unreadable: skipped */ }
    }
    return out;
  }

  /** experiments.create: a new, unsaved experiment from a template, with a fresh name and no runs. */
  async create(templateId: string): Promise<{ doc: Record<string, unknown> }> {
    const all = await this.templates();
    const t = all.find((x) => x.id === templateId);
    if (!t) throw fail('INVALID_CONFIG', `no template '${templateId}'; there are ${all.map((x) => x.id).join(', ') || 'none'}`, ['template']);
    const e = structuredClone(t.experiment);
    e.name = `${t.name} (new)`.slice(0, 200);
    for (const c of e.cells) if (c.kind === 'pretrain' && c.runs) c.runs = [];
    return { doc: e as unknown as Record<string, unknown> };
  }

  // ---------------------------------------------------------------------------------------------------
  // workspace

  /** experiments.list: *.experiment.json under the workspace (hidden folders, node_modules and run folders skipped). */
  async list(): Promise<{ path: string; name: string; mtimeMs: number }[]> {
    if (!this.workspaceRoot) return [];
    const root = await fsp.realpath(this.workspaceRoot).catch(() => this.workspaceRoot!);
    const out: { path: string; name: string; mtimeMs: number }[] = [];
    const walk = async (dir: string, depth: number): Promise<void> => {
      if (depth > LIST_MAX_DEPTH || out.length >= LIST_MAX_FILES) return;
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const e of entries) {
        if (out.length >= LIST_MAX_FILES) return;
        if (e.name.startsWith('.')) continue;
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (e.name === 'node_modules' || e.name.endsWith('.runs')) continue;
          await walk(p, depth + 1);
        } else if (e.isFile() && e.name.endsWith(EXPERIMENT_SUFFIX)) {
          try {
            out.push({ path: p, name: e.name.slice(0, -EXPERIMENT_SUFFIX.length), mtimeMs: (await fsp.stat(p)).mtimeMs });
          } catch { /* vanished */ }
        }
      }
    };
    await walk(root, 0);
    return out;
  }
}
