/**
 * Opens the printed URL in the user's browser where there is one: `open` on macOS, `start` on Windows,
 * xdg-open on Linux with a display. Headless machines (no DISPLAY, no xdg-open) are skipped quietly:
 * the URL is printed either way.
 *
 * The browser is not handed the URL itself: a command line is readable by every user of the machine
 * (ps, /proc/PID/cmdline), and the URL carries the token. It gets a file only this user can read, which
 * redirects to the URL (Jupyter does the same), and the file is deleted a minute later.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** how long the redirect file waits for the browser to read it */
const REDIRECT_FILE_LIFETIME_MS = 60_000;

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

/** Writes an HTML page that sends the browser on to `url`, in a new folder only this user can enter. */
export function writeRedirectFile(url: string, tmpDir = os.tmpdir()): string {
  const dir = fs.mkdtempSync(path.join(tmpDir, 'workbench-open-')); // mode 0700
  const file = path.join(dir, 'open.html');
  const href = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  fs.writeFileSync(file, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>Transformer Workbench</title><p><a href="${href}">Open Transformer Workbench</a></p>\n`, { mode: 0o600 });
  return file;
}

/** true when a browser was asked to open the URL (through a redirect file, see above) */
export function openBrowser(url: string, platform = process.platform, env = process.env): boolean {
  const c = browserCommand(platform, env);
  if (!c) return false;
  let file: string | null = null;
  try {
    file = writeRedirectFile(url, env.TMPDIR || os.tmpdir());
    const child = spawn(c.cmd, [...c.args, pathToFileURL(file).href], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
    const dir = path.dirname(file);
    setTimeout(() => fs.rmSync(dir, { recursive: true, force: true }), REDIRECT_FILE_LIFETIME_MS).unref();
    return true;
  } catch {
    if (file) fs.rmSync(path.dirname(file), { recursive: true, force: true });
    return false;
  }
}
