/**
 * One writer per run folder. Two trainers on one run (a `resume` while the run still trains, in another
 * terminal or window) would delete each other's checkpoints and cut each other's curves, so a writer
 * holds `run.lock` — the pid and host of its process — from open to close. A lock whose process is gone
 * (killed, crashed) is stale and taken over: a crash must never leave a run that cannot be resumed.
 * The engine takes it; the host and the command line ask it whether a 'running' run is really training.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { EngineError } from '../errors';
import { processAlive } from './processAlive';

export const LOCK_FILE = 'run.lock';

const LockInfo = z.object({ pid: z.number().int().positive(), host: z.string(), since: z.string() });
type LockInfo = z.infer<typeof LockInfo>;

/** The refusal when another writer holds the run: who holds it, and what to do. */
function lockedError(runDir: string, holder: LockInfo): EngineError {
  return new EngineError('BUSY', `${runDir}: this run is being trained by process ${holder.pid} on ${holder.host} (since ${holder.since}); stop that run first, or wait for it to finish. If no such process runs any more, delete ${path.join(runDir, LOCK_FILE)}`);
}

/** Run folders this process holds: a second writer in the same process is refused like one in another. */
const heldHere = new Set<string>();

async function readLock(file: string): Promise<LockInfo | null> {
  try {
    const r = LockInfo.safeParse(JSON.parse(await fsp.readFile(file, 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null; // gone meanwhile, or torn by a crash while it was written: stale either way
  }
}

/** Whether the lock's holder may still be writing: another host cannot be asked, so it counts as live. */
function holds(info: LockInfo, dir: string): boolean {
  if (info.host !== os.hostname()) return true;
  if (info.pid === process.pid) return heldHere.has(dir);
  return processAlive(info.pid);
}

/**
 * Whether a process may be training the run in `runDir` now: its lock names a live process (or one on another
 * host, which cannot be asked). A run.json that says 'running' without one was left so by a process that died.
 */
export async function hasLiveWriter(runDir: string): Promise<boolean> {
  const dir = path.resolve(runDir);
  const info = await readLock(path.join(dir, LOCK_FILE));
  return info !== null && holds(info, dir);
}

export class RunLock {
  private released = false;
  private constructor(readonly dir: string, private readonly file: string) {}

  /** Takes the lock of `runDir`, or throws a BUSY EngineError naming the live holder. */
  static async acquire(runDir: string): Promise<RunLock> {
    const dir = path.resolve(runDir);
    const file = path.join(dir, LOCK_FILE);
    const mine: LockInfo = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await fsp.writeFile(file, JSON.stringify(mine), { flag: 'wx' });
        heldHere.add(dir);
        return new RunLock(dir, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const info = await readLock(file);
      if (info && holds(info, dir)) throw lockedError(dir, info);
      // stale: its writer is gone. Remove it and race for it again (another taker may win: then it is live)
      await fsp.rm(file, { force: true });
    }
    throw new Error(`${file}: could not be taken after several tries; another process keeps replacing it`);
  }

  /** Gives the lock up (idempotent). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.dir);
    if ((await readLock(this.file))?.pid === process.pid) await fsp.rm(this.file, { force: true });
  }

  /** The same, synchronously: for a process on its way out. */
  releaseSync(): void {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.dir);
    try {
      if (JSON.parse(fs.readFileSync(this.file, 'utf8')).pid === process.pid) fs.rmSync(this.file, { force: true });
    } catch { /* already gone */ }
  }
}
