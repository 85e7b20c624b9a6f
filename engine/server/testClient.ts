/**
 * Starts the real engine process for tests, the way the host will: `child_process.fork` of
 * engine/main.ts under tsx, spoken to through common/engineClient.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EngineClient } from '../../common/engineClient';
import { EngineError } from '../../common/errors';
import type { EventOf } from '../../common/protocol';

export const ENGINE_ENTRY = fileURLToPath(new URL('../main.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface EngineProcess {
  child: ChildProcess;
  client: EngineClient;
  ready: EventOf<'onReady'>;
  /** sends anything at all, bypassing the client: for tests of malformed input */
  sendRaw(message: unknown): void;
  /** resolves when the process has exited */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** what the engine wrote to stderr so far: shown when a test fails */
  stderr(): string;
  /** asks for `shutdown`, and kills the process if it has not exited within `ms` */
  stop(ms?: number): Promise<void>;
}

/**
 * `preload`: modules loaded before the engine (e.g. testFaults.ts), as paths; `commandPrefix`: a command the
 * engine runs under (e.g. setpriv with root's file-permission override dropped), its IPC channel kept.
 */
export async function startEngine(opts: { env?: NodeJS.ProcessEnv; preload?: string[]; commandPrefix?: string[] } = {}): Promise<EngineProcess> {
  const [prefixCommand, ...prefixArgs] = opts.commandPrefix ?? [];
  const child = fork(ENGINE_ENTRY, [], {
    cwd: REPO_ROOT,
    // fork runs `execPath execArgv ENGINE_ENTRY`: a prefix command takes execPath's place and runs node itself
    ...(prefixCommand ? { execPath: prefixCommand } : {}),
    execArgv: [...(prefixCommand ? [...prefixArgs, process.execPath] : []), '--import', 'tsx', ...(opts.preload ?? []).flatMap((p) => ['--import', pathToFileURL(p).href])],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, ...opts.env },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-20_000); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const client = new EngineClient({
    send: (message) => { child.send(message as object); },
    onMessage: (listener) => {
      child.on('message', listener);
      return () => child.off('message', listener);
    },
  });
  void exited.then(({ code, signal }) => client.close(new EngineError('INTERNAL', `the engine exited (code ${code}, signal ${signal})\n${stderr}`)));
  const ready = await Promise.race([
    client.ready,
    exited.then(({ code }) => { throw new Error(`the engine exited with code ${code} before it was ready:\n${stderr}`); }),
  ]);
  return {
    child, client, ready, exited,
    sendRaw: (message) => { child.send(message as object); },
    stderr: () => stderr,
    async stop(ms = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      try {
        await client.request({ type: 'shutdown' });
      } catch { /* already going */ }
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `promise`, or a rejection naming what was awaited once `ms` have passed: a test fails on a hang instead of hanging. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
