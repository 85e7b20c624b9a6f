/**
 * Opens the printed URL in the user's browser where there is one: `open` on macOS, `start` on Windows,
 * xdg-open on Linux with a display. Headless machines (no DISPLAY, no xdg-open) are skipped quietly:
 * the URL is printed either way.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | null {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return null;
}

export function browserCommand(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): { cmd: string; args: string[] } | null {
  if (env.WORKBENCH_NO_BROWSER) return null;
  if (platform === 'darwin') return { cmd: 'open', args: [] };
  if (platform === 'win32') return { cmd: 'cmd', args: ['/c', 'start', '""'] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  const xdg = findOnPath('xdg-open', env.PATH);
  return xdg ? { cmd: xdg, args: [] } : null;
}

/** true when a browser was asked to open the URL */
export function openBrowser(url: string, platform = process.platform, env = process.env): boolean {
  const c = browserCommand(platform, env);
  if (!c) return false;
  try {
    const child = spawn(c.cmd, [...c.args, url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}
