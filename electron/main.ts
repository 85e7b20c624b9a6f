/**
 * The desktop app's main process: glue only. The guards, the IPC, the menu and the app protocol are
 * plain modules under ./shell (tested without Electron); the host is ./host/workbenchHost, whose engine
 * runs in an Electron utility process. Run by scripts/electron-main.mjs (tsx), started by `npm start`.
 */
import { BrowserWindow, Menu, app, dialog, ipcMain, protocol, session, utilityProcess } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { asHostLike } from './hostAdapter';
import { REPO_ROOT, utilityProcessEngine } from './host/engineSupervisor';
import { createWorkbenchHost, type WorkbenchHost } from './host/workbenchHost';
import { appProtocolResponse } from './shell/appProtocol';
import { registerIpc, type IpcBridge, type IpcMainLike } from './shell/ipc';
import { createMenuActions, menuTemplate, toElectronTemplate } from './shell/menu';
import { APP_SCHEME, APP_URL, hardenSession, hardenWebContents, type WebContentsLike } from './shell/security';
import { windowOptions } from './shell/windowOptions';

const RENDERER_DIR = process.env.WORKBENCH_RENDERER_DIR ?? path.join(REPO_ROOT, 'dist', 'renderer');
const PRELOAD = process.env.WORKBENCH_PRELOAD ?? path.join(REPO_ROOT, 'dist', 'electron', 'preload.cjs');

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } }]);
app.enableSandbox();
app.on('web-contents-created', (_e, contents) => hardenWebContents(contents as unknown as WebContentsLike));

let win: BrowserWindow | null = null;
let host: WorkbenchHost | null = null;
let ipc: IpcBridge | null = null;

async function refreshMenu(): Promise<void> {
  const recent = host ? await host.call('experiments.recent', {}).catch(() => [] as string[]) : [];
  const perform = createMenuActions({
    dialog: {
      showOpenDialog: (o) => (win ? dialog.showOpenDialog(win, o) : dialog.showOpenDialog(o)),
      showSaveDialog: (o) => (win ? dialog.showSaveDialog(win, o) : dialog.showSaveDialog(o)),
    },
    sendCommand: (command, args) => host?.emit('onMenuCommand', { command, ...(args ? { args } : {}) }),
    onFileChosen: () => void setTimeout(() => void refreshMenu(), 1000),
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(toElectronTemplate(menuTemplate({ recent, platform: process.platform }), (a) => void perform(a))));
}

async function createWindow(): Promise<void> {
  win = new BrowserWindow(windowOptions({ preloadPath: PRELOAD, devTools: !app.isPackaged }));
  win.once('ready-to-show', () => win?.show());
  win.on('focus', () => void refreshMenu());
  win.on('closed', () => { win = null; });
  await win.loadURL(APP_URL);
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => { if (win) { if (win.isMinimized()) win.restore(); win.focus(); } });
  app.whenReady().then(async () => {
    hardenSession(session.defaultSession);
    protocol.handle(APP_SCHEME, async (request) => {
      const r = appProtocolResponse(RENDERER_DIR, request.url, request.method);
      if ('file' in r) return new Response(await fs.promises.readFile(r.file), { status: r.status, headers: r.headers });
      return new Response(r.body, { status: r.status, headers: r.headers });
    });
    host = createWorkbenchHost({
      engine: { fork: utilityProcessEngine((entry) => utilityProcess.fork(entry, [], { execArgv: ['--import', 'tsx'], stdio: 'pipe', cwd: REPO_ROOT, serviceName: 'Workbench engine' })) },
    });
    ipc = registerIpc({ ipcMain: ipcMain as unknown as IpcMainLike, host: asHostLike(host), getWindow: () => win });
    await refreshMenu();
    await createWindow();
    app.on('activate', () => { if (!win) void createWindow(); });
  }).catch((err) => {
    dialog.showErrorBox('Transformer Workbench could not start', String(err instanceof Error ? err.stack : err));
    app.exit(1);
  });

  let quitting = false;
  app.on('window-all-closed', () => { if (process.platform !== 'darwin') app.quit(); });
  app.on('will-quit', (event) => {
    if (quitting || !host) return;
    event.preventDefault();
    quitting = true;
    ipc?.dispose();
    host.dispose().finally(() => app.quit());
  });
}
