/**
 * The main window's options, fixed by Electron's security checklist: the renderer is a web page with no
 * Node, isolated from the preload, sandboxed, same-origin enforced, no <webview>, no insecure content.
 * Only the preload's `workbench` object (WorkbenchApi) crosses into it.
 */
import type { BrowserWindowConstructorOptions } from 'electron';

export interface WindowOptionsInput {
  /** absolute path of the bundled preload script (dist/electron/preload.cjs) */
  preloadPath: string;
  iconPath?: string;
  /** the developer tools: in development only (`!app.isPackaged`); a packaged build has none */
  devTools: boolean;
}

export function windowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 800,
    minHeight: 500,
    title: 'Transformer Workbench',
    show: false, // shown on ready-to-show, so no white flash
    backgroundColor: '#1e1e1e',
    ...(input.iconPath ? { icon: input.iconPath } : {}),
    webPreferences: {
      preload: input.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: input.devTools,
    },
  };
}
