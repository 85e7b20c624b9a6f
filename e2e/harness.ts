/**
 * What an end-to-end test needs around the product, started as a user would start it: the renderer built,
 * browser mode (`electron/server/main.ts`, run by path as its own process group, so the engine it forks
 * goes down with it) in a temporary workspace, and Debian's Chromium driven by playwright-core.
 * e2e/ imports common/ and Playwright only (DESIGN.md's folder table); the product is a separate process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const SHARED_DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data');
export const SCREENSHOTS = path.join(REPO_ROOT, 'e2e', 'screenshots');
/** failure screenshots and logs: not committed (.gitignore has test-results/) */
export const ARTIFACTS = path.join(REPO_ROOT, 'test-results', 'e2e');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** The newest modification time of the files under `dir` (recursively), 0 when it has none. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.test.ts')) continue;
    newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/renderer when it is missing or older than renderer/ (a clean clone in CI, or sources edited
 * since the last build). E2E_NO_BUILD=1 uses whatever is there.
 */
export function ensureRendererBuilt(): void {
  const index = path.join(REPO_ROOT, 'dist', 'renderer', 'index.html');
  const built = fs.existsSync(index) ? fs.statSync(index).mtimeMs : 0;
  if (process.env.E2E_NO_BUILD === '1' && built) return;
  if (built && built >= newestMtime(path.join(REPO_ROOT, 'renderer'))) return;
  const started = Date.now();
  const r = spawnSync('npm', ['run', 'build:renderer'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build:renderer failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  console.log(`# built the renderer in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** A fresh workspace folder with the first `bytes` of tinyshakespeare in it as `name`. */
export function makeWorkspace(name = 'tiny.txt', bytes = 40_000): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'workbench-e2e-'));
  const fd = fs.openSync(path.join(SHARED_DATA, 'tinyshakespeare.txt'), 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = fs.readSync(fd, buf, 0, bytes, 0);
    fs.writeFileSync(path.join(dir, name), buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return dir;
}

export interface RunningWorkbench {
  url: string;
  /** the browser-mode process (leader of its own process group) */
  pid: number;
  workspace: string;
  /** what the process wrote, for failure reports */
  log(): string;
  stop(): Promise<void>;
}

const URL_RE = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/;

/**
 * Starts browser mode on a free port (`--port 0`) in `workspace` and resolves with the URL it prints.
 * Caches and the recent-files list go to folders inside the workspace, so nothing of the user's is touched.
 */
export async function startWorkbench(workspace: string, timeoutMs = 60_000): Promise<RunningWorkbench> {
  const home = path.join(workspace, '.home');
  fs.mkdirSync(home, { recursive: true });
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'electron/server/main.ts', '--port', '0', '--workspace', workspace, '--no-open'], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_CACHE_HOME: path.join(home, 'cache'), XDG_CONFIG_HOME: path.join(home, 'config'), BROWSER: 'none' },
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid!;

  const killGroup = (signal: NodeJS.Signals) => {
    try { process.kill(-pid, signal); } catch { /* the group is gone */ }
  };
  // should the test process itself end abruptly, the workbench and its engine must not outlive it
  const onExit = () => killGroup('SIGKILL');
  const onSignal = (signal: NodeJS.Signals) => {
    killGroup('SIGKILL');
    fs.rmSync(workspace, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= (async () => {
    killGroup('SIGTERM');
    const timer = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
    await Promise.race([exited, timer]);
    // the engine, and anything the host forked, whether or not the host managed to end it
    killGroup('SIGKILL');
    process.removeListener('exit', onExit);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  })());

  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`browser mode printed no URL within ${timeoutMs} ms:\n${out}`)), timeoutMs);
      const check = () => {
        const m = URL_RE.exec(out);
        if (m) { clearTimeout(timer); resolve(m[0]); }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`browser mode exited (${code ?? signal}) before printing its URL:\n${out}`)); });
      check();
    });
    return { url, pid, workspace, log: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** The processes whose parent is `pid` (Linux /proc), e.g. the engine the host forked. */
export function childPids(pid: number): number[] {
  const kids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      // the command may hold spaces and parentheses: the fields after the last ')' are fixed
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(d));
    } catch { /* it ended meanwhile */ }
  }
  return kids;
}

export function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Polls until `fn` returns a truthy value; its last error or value in the message when it never does. */
export async function until<T>(what: string, fn: () => Promise<T>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) { last = err; }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : String(last)}`);
}

/**
 * A screenshot of an element, whole: the notebook scrolls inside its own container, so the viewport is
 * made tall enough for the element first, then put back.
 */
export async function screenshotWhole(page: Page, target: Locator, file: string): Promise<void> {
  const viewport = page.viewportSize()!;
  const box = await target.boundingBox();
  const need = Math.ceil((box?.height ?? 0) + 140);
  if (need > viewport.height) await page.setViewportSize({ width: viewport.width, height: need });
  try {
    await target.scrollIntoViewIfNeeded();
    await target.screenshot({ path: file, animations: 'disabled' });
  } finally {
    if (need > viewport.height) await page.setViewportSize(viewport);
  }
}

/** A whole screenshot of `target` (see screenshotWhole) as e2e/screenshots/NAME.png, the pictures the README shows. */
export async function saveScreenshot(page: Page, target: Locator, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await screenshotWhole(page, target, path.join(SCREENSHOTS, `${name}.png`));
}

/** A test step that leaves a screenshot of the page in test-results/e2e/ when it fails. */
export function stepWithFailureShot(page: () => Page | undefined, prefix = 'failed-') {
  return (name: string, fn: () => Promise<void>, timeout = 90_000): void => {
    it(name, { timeout }, async () => {
      try {
        await fn();
      } catch (err) {
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        const file = path.join(ARTIFACTS, `${prefix}${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
        await page()?.screenshot({ path: file, fullPage: true }).catch(() => {});
        throw err;
      }
    });
  };
}

/**
 * A page as the e2e tests drive it: 1440 × 1000 at density 1, 20 s per action, dialogs accepted (a reload with
 * unsaved edits asks first; a flow must not hang on it), console errors and page errors pushed to `errors`.
 */
export async function openPage(browser: Browser, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('dialog', (d) => void d.accept());
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return page;
}

/** Loads the page and opens `file` of the workspace from its Open dialog; resolves once the engine is ready. */
export async function openExperiment(page: Page, url: string, file: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('banner').getByRole('button', { name: 'Open', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }).click();
  await page.getByRole('dialog').waitFor({ state: 'hidden' });
  const engine = page.getByRole('banner').getByRole('status').filter({ hasText: /^engine ·/ });
  await until('the engine to be ready', async () => /engine · (?!starting|stopped|crashed|restarting)/.test(await engine.innerText()));
}

/**
 * Adds an inspect cell below cell `below` (counted from 1) and binds it to the run `runId` (the newest run
 * listed when none is named), once the run is listed and its checkpoints read; the new cell.
 */
export async function addInspectCell(page: Page, below: number, runId?: string): Promise<Locator> {
  const cells = page.getByRole('region', { name: /^Inspect cell / });
  const labels = () => cells.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  const before = await labels();
  const bar = page.getByRole('toolbar', { name: `Add a cell below cell ${below}` });
  await bar.hover();
  await bar.getByRole('button', { name: '+ Inspect' }).click();
  const label = await until('the new inspect cell', async () => (await labels()).find((l) => !before.includes(l)), 10_000);
  const cell = page.getByRole('region', { name: label, exact: true });
  const run = cell.getByLabel('Run', { exact: true });
  const option = runId === undefined ? run.locator('option').nth(1) : run.locator(`option[value="${runId}"]`);
  await until(`the run ${runId ?? ''} listed`, async () => (await option.count()) > 0);
  await run.selectOption(runId ?? { index: 1 });
  await until('the checkpoints listed', async () => /\d+ checkpoints kept/.test(await cell.innerText()));
  return cell;
}

/**
 * The renderer built, browser mode on `workspace` and a page of Chromium (see openPage; its console errors go
 * to `consoleErrors`), as a suite's `before` starts them; what was started is stopped again when a later part fails.
 */
export async function startSession(workspace: string, consoleErrors: string[]): Promise<{ workbench: RunningWorkbench; browser: Browser; page: Page }> {
  ensureRendererBuilt();
  const workbench = await startWorkbench(workspace);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    return { workbench, browser, page: await openPage(browser, consoleErrors) };
  } catch (err) {
    await browser?.close().catch(() => {});
    await workbench.stop();
    throw err;
  }
}

/**
 * A suite's `after`: closes the browser, stops the workbench, keeps what it wrote and the page's console errors
 * as test-results/e2e/NAME-workbench.log, and removes its workspace.
 */
export async function endSession(session: { workbench?: RunningWorkbench; browser?: Browser }, consoleErrors: string[], name: string): Promise<void> {
  await session.browser?.close().catch(() => {});
  const { workbench } = session;
  if (!workbench) return;
  await workbench.stop();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.writeFileSync(path.join(ARTIFACTS, `${name}-workbench.log`), `${workbench.log()}\n${consoleErrors.join('\n')}`);
  fs.rmSync(workbench.workspace, { recursive: true, force: true });
}
