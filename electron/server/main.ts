/**
 * Browser mode's entry: the host, the 127.0.0.1 server in front of it, the URL printed (and opened where
 * a browser is at hand). `npm start` runs this when Electron's binary is absent; directly:
 *   node --import tsx electron/server/main.ts [--port N] [--workspace DIR] [--no-open]
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { asHostLike } from '../hostAdapter';
import { REPO_ROOT } from '../host/engineSupervisor';
import { createWorkbenchHost } from '../host/workbenchHost';
import { openBrowser } from './openBrowser';
import { createWorkbenchServer, type WorkbenchServer } from './server';

export interface BrowserModeOptions {
  port?: number;
  /** the folder experiment paths must stay inside (browser mode has no native dialog) */
  workspaceRoot?: string;
  rendererDir?: string;
  open?: boolean;
}

export async function startBrowserMode(opts: BrowserModeOptions = {}): Promise<{ server: WorkbenchServer; stop(): Promise<void> }> {
  const workspaceRoot = path.resolve(opts.workspaceRoot ?? process.env.INIT_CWD ?? process.cwd());
  const host = createWorkbenchHost({ workspaceRoot });
  let server: WorkbenchServer;
  try {
    server = await createWorkbenchServer({
      host: asHostLike(host),
      rendererDir: opts.rendererDir ?? path.join(REPO_ROOT, 'dist', 'renderer'),
      port: opts.port ?? 0,
      log: process.env.WORKBENCH_DEBUG ? (line) => console.error(`[server] ${line}`) : undefined,
    });
  } catch (err) {
    await host.dispose();
    throw err;
  }
  let stopping: Promise<void> | null = null;
  return {
    server,
    stop: () => (stopping ??= server.close().then(() => host.dispose())),
  };
}

export function parseArgs(argv: string[]): BrowserModeOptions {
  const o: BrowserModeOptions = { open: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-open') o.open = false;
    else if (a === '--port' && /^\d+$/.test(argv[i + 1] ?? '') && Number(argv[i + 1]) < 65536) o.port = Number(argv[++i]);
    else if (a === '--workspace' && argv[i + 1]) o.workspaceRoot = argv[++i];
    else throw new Error(`unknown or incomplete argument '${a}'; usage: [--port N] [--workspace DIR] [--no-open]`);
  }
  return o;
}

export async function main(argv: string[]): Promise<void> {
  const opts = parseArgs(argv);
  const { server, stop } = await startBrowserMode(opts);
  console.log(`\nTransformer Workbench (browser mode) is running at:\n\n    ${server.url}\n\nOpen that URL in a browser on this machine; Ctrl+C stops it.\n`);
  if (opts.open !== false && openBrowser(server.url)) console.log('(opened in your browser)');
  const shutdown = () => {
    stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
