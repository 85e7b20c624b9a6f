/**
 * The Serve button's host side: a run's model behind the local inference server, which is the engine's
 * command `workbench serve RUN_DIR --json` started by path as a process of its own (the host never imports
 * engine code), one per run, stopped with the host. Its first line says where it listens (ServeStarted);
 * what it writes to stderr is kept (the last few KiB) for the message when it cannot start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { runDirOf } from '../../common/experiment';
import { EngineError } from '../../common/errors';
import { ServeStarted } from '../../common/serveApi';
import { REPO_ROOT } from './engineSupervisor';
import type { ExperimentFiles } from './experimentFiles';

const BIN = path.join(REPO_ROOT, 'bin/workbench.js');
/** how long a server may take to load its model and listen */
const START_TIMEOUT_MS = 120_000;
/** the end of the command's stderr kept for its refusal: a refusal is followed by the usage of every command (over 4 KiB, and growing) */
const STDERR_TAIL = 16_000;

export interface ServeHandle { experimentPath: string; runId: string }

interface Serving {
  child: ChildProcess;
  ready: Promise<ServeStarted>;
}

export class ServeService {
  private readonly servers = new Map<string, Serving>();

  constructor(private readonly files: ExperimentFiles, private readonly bin = BIN) {}

  async start(h: ServeHandle, checkpoint?: string): Promise<ServeStarted> {
    const runDir = runDirOf(await this.files.resolvePath(h.experimentPath, ['experimentPath']), h.runId);
    const running = this.servers.get(runDir);
    if (running) return running.ready;
    // ELECTRON_RUN_AS_NODE: under Electron, process.execPath is Electron's binary, which then runs as plain Node
    const child = spawn(process.execPath, [this.bin, 'serve', runDir, '--json', ...(checkpoint ? ['--checkpoint', checkpoint] : [])], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_TAIL); });
    const ready = new Promise<ServeStarted>((resolve, reject) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new EngineError('INTERNAL', `the inference server did not start within ${START_TIMEOUT_MS / 1000} s`)); }, START_TIMEOUT_MS);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        const r = ServeStarted.safeParse((() => { try { return JSON.parse(line); } catch { return null; } })());
        if (r.success) resolve(r.data);
        else { child.kill('SIGKILL'); reject(new EngineError('INTERNAL', `the inference server printed something else than its address: ${line.slice(0, 200)}`)); }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        this.servers.delete(runDir);
        // the command's own refusal (no checkpoint yet, a damaged run) is its last 'workbench: …' line
        const said = stderr.split('\n').filter((l) => l.startsWith('workbench: ')).at(-1)?.slice('workbench: '.length);
        reject(new EngineError('INVALID_CONFIG', said ?? `the inference server exited (${code}) before it listened: ${stderr.trim().slice(-500)}`, ['runId']));
      });
    });
    this.servers.set(runDir, { child, ready });
    return ready;
  }

  async stop(h: ServeHandle): Promise<Record<string, never>> {
    const runDir = runDirOf(await this.files.resolvePath(h.experimentPath, ['experimentPath']), h.runId);
    const s = this.servers.get(runDir);
    if (s) await stopChild(s.child);
    this.servers.delete(runDir);
    return {};
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => stopChild(s.child)));
    this.servers.clear();
  }
}

/** SIGINT (the server cancels what is in flight and closes), SIGKILL if it has not gone within 5 s. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGINT');
  });
}
