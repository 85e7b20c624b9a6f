/**
 * Ctrl+C and SIGTERM on the command line, from the moment a run is asked for: the first signal cancels
 * data preparation or stops training after its current step (with a checkpoint); a second one exits at
 * once, and run.json then says 'interrupted' instead of 'running' forever. A run the signal ended exits
 * with the shell's 128 + signal number (130 for Ctrl+C, 143 for SIGTERM); the second signal kills the
 * process with itself, so that a read that hangs (a stalled network drive) cannot hold the exit up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineError, toSerializedError } from '../../common/errors';
import { RunJson, type RunStatus } from '../../common/runFolder';
import { RUN_JSON } from '../../common/node/runFiles';
import type { Trainer } from '../training/trainer';
import { writeJsonAtomicSync } from '../../common/node/atomicWrite';

/**
 * Rewrites run.json's status when `when` accepts what it says now; false when it does not, or run.json is
 * gone or unreadable. Synchronous, for a process on its way out: the trainer that owns run.json (and its
 * run.lock) writes nothing after this, as the electron host's markInterrupted assumes of a dead engine.
 */
export function markRunSync(runDir: string, status: RunStatus, when: (run: RunJson) => boolean): boolean {
  const file = path.join(runDir, RUN_JSON);
  try {
    const r = RunJson.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (!r.success || !when(r.data)) return false;
    writeJsonAtomicSync(file, { ...r.data, status, updated: new Date().toISOString() });
    return true;
  } catch {
    return false; // gone (preparation failed and removed it) or read-only: nothing to correct there
  }
}

/**
 * How a one-shot command (export, compare) ends on an error: stopped by a signal it exits 128 + signal, else 1;
 * with --json a summary line says which, and the message goes to stderr. A plain failure without --json is
 * thrown on, for main's message and usage.
 */
export function commandFailure(err: unknown, stop: StopOnSignals, json: boolean, print: (line: object) => void): number {
  const cancelled = stop.received !== null && err instanceof EngineError && err.code === 'JOB_CANCELLED';
  if (!json && !cancelled) throw err;
  if (json) print({ type: 'summary', status: cancelled ? 'cancelled' : 'failed', error: toSerializedError(err) });
  process.stderr.write(`workbench: ${(err as Error).message}\n`);
  return cancelled ? stop.exitCode : 1;
}

export class StopOnSignals {
  private readonly controller = new AbortController();
  private trainer: Trainer | null = null;
  private readonly handler = (sig: NodeJS.Signals) => this.onSignal(sig);
  /** the first signal received, null while none */
  received: NodeJS.Signals | null = null;
  /** the run folder, once Trainer.start or resume has named it */
  runDir: string | null = null;

  /** aborts data preparation, and stops training, at the first signal */
  get signal(): AbortSignal { return this.controller.signal; }

  /** the exit code of a run ended by the signal received */
  get exitCode(): number { return exitCodeOf(this.received ?? 'SIGINT'); }

  /** Listens for SIGINT and SIGTERM until the returned function is called. */
  install(): () => void {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
    return () => this.uninstall();
  }

  private uninstall(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }

  /** The trainer that preparation produced; a signal that came during preparation stops it before its first step. */
  attach(trainer: Trainer): void {
    this.trainer = trainer;
    this.runDir = trainer.runDir;
    if (this.received) trainer.stop();
  }

  private onSignal(sig: NodeJS.Signals): void {
    if (this.received) {
      if (this.runDir) markRunSync(this.runDir, 'interrupted', (r) => r.status === 'running');
      process.stderr.write(`\n${sig}: quitting now${this.runDir ? `; \`workbench resume ${this.runDir}\` continues from the last checkpoint` : ''}\n`);
      // process.exit would wait for a thread-pool read that never returns (a FIFO, a dead NFS server); the
      // signal's default action does not. Without a listener Node restores that default.
      this.uninstall();
      process.kill(process.pid, sig);
      process.exit(exitCodeOf(sig)); // where a signal cannot kill (Windows), at least leave
    }
    this.received = sig;
    process.stderr.write(this.trainer
      ? `\n${sig}: stopping after this step (a checkpoint is written; \`workbench resume ${this.trainer.runDir}\` continues). Press again to quit at once.\n`
      : `\n${sig}: cancelling data preparation. Press again to quit at once.\n`);
    this.controller.abort();
    this.trainer?.stop();
  }
}

function exitCodeOf(sig: NodeJS.Signals): number {
  return 128 + (os.constants.signals[sig] ?? 2);
}
