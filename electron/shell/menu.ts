/**
 * The desktop menu as data: each item either runs one of the renderer's registered commands (sent as an
 * onMenuCommand event, the same ids the toolbar and keyboard use), asks a native file dialog first and
 * then runs a command with the chosen path, or is one of Electron's built-in roles (clipboard, zoom, quit).
 * Keys the renderer binds itself are shown but not registered here, so a keystroke never fires twice.
 */
import type { MenuItemConstructorOptions } from 'electron';
import { EXPERIMENT_SUFFIX } from '../../common/experiment';

export type MenuAction =
  | { kind: 'command'; command: string; args?: string[] }
  | { kind: 'openDialog' }
  | { kind: 'saveDialog' };

export interface MenuItemData {
  label?: string;
  action?: MenuAction;
  role?: MenuItemConstructorOptions['role'];
  accelerator?: string;
  /** false: the renderer handles the key; the menu only shows it */
  registerAccelerator?: boolean;
  type?: 'separator';
  enabled?: boolean;
  submenu?: MenuItemData[];
}

const CELL_KINDS = [['notes', 'Notes'], ['dataset', 'Dataset'], ['model', 'Model'], ['pretrain', 'Pretrain']] as const;

const cmd = (command: string, args?: string[]): MenuAction => ({ kind: 'command', command, ...(args ? { args } : {}) });
const shown = (accelerator: string) => ({ accelerator, registerAccelerator: false });
const sep: MenuItemData = { type: 'separator' };

export function menuTemplate(opts: { recent: string[]; platform: NodeJS.Platform; appName?: string }): MenuItemData[] {
  const mac = opts.platform === 'darwin';
  const recent: MenuItemData[] = opts.recent.length
    ? opts.recent.slice(0, 10).map((p) => ({ label: p, action: cmd('experiment.open', [p]) }))
    : [{ label: 'No recent experiments', enabled: false }];
  return [
    ...(mac ? [{ label: opts.appName ?? 'Transformer Workbench', submenu: [{ role: 'about' }, sep, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, sep, { role: 'quit' }] } as MenuItemData] : []),
    {
      label: '&File',
      submenu: [
        { label: 'New', action: cmd('experiment.new'), ...shown('CmdOrCtrl+N') },
        { label: 'Open…', action: { kind: 'openDialog' }, ...shown('CmdOrCtrl+O') },
        { label: 'Open Recent', submenu: recent },
        sep,
        { label: 'Save', action: cmd('experiment.save'), ...shown('CmdOrCtrl+S') },
        { label: 'Save As…', action: { kind: 'saveDialog' }, ...shown('CmdOrCtrl+Shift+S') },
        ...(mac ? [] : [sep, { role: 'quit' } as MenuItemData]),
      ],
    },
    {
      label: '&Edit',
      submenu: [
        { label: 'Undo', action: cmd('edit.undo'), ...shown('CmdOrCtrl+Z') },
        { label: 'Redo', action: cmd('edit.redo'), ...shown('CmdOrCtrl+Y') },
        sep,
        { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' },
      ],
    },
    {
      label: '&Run',
      submenu: [
        { label: 'Run Cell', action: cmd('cell.run'), ...shown('Shift+Enter') },
        { label: 'Stop Run', action: cmd('run.stop') },
        sep,
        { label: 'Add Cell', submenu: CELL_KINDS.map(([kind, label]) => ({ label, action: cmd(`cell.add.${kind}`) })) },
        sep,
        { label: 'Restart Engine', action: cmd('engine.restart') },
      ],
    },
    {
      label: '&View',
      submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, sep, { role: 'togglefullscreen' }, sep, { role: 'toggleDevTools' }],
    },
    { label: '&Help', role: 'help', submenu: [{ role: 'about' }] },
  ];
}

/** The data template as Electron's, with every action routed to `perform`. */
export function toElectronTemplate(items: MenuItemData[], perform: (action: MenuAction) => void): MenuItemConstructorOptions[] {
  return items.map((item) => {
    const out: MenuItemConstructorOptions = {};
    if (item.type) out.type = item.type;
    if (item.label !== undefined) out.label = item.label;
    if (item.role) out.role = item.role;
    if (item.accelerator) out.accelerator = item.accelerator;
    if (item.registerAccelerator !== undefined) out.registerAccelerator = item.registerAccelerator;
    if (item.enabled !== undefined) out.enabled = item.enabled;
    if (item.submenu) out.submenu = toElectronTemplate(item.submenu, perform);
    const action = item.action;
    if (action) out.click = () => perform(action);
    return out;
  });
}

export interface DialogLike {
  showOpenDialog(options: { title: string; properties: 'openFile'[]; filters: { name: string; extensions: string[] }[] }): Promise<{ canceled: boolean; filePaths: string[] }>;
  showSaveDialog(options: { title: string; filters: { name: string; extensions: string[] }[]; defaultPath?: string }): Promise<{ canceled: boolean; filePath?: string }>;
}

const FILTERS = [{ name: 'Experiments', extensions: ['json'] }];

/** The path a save dialog returned, with the experiment extension when the user left it off. */
export function withExperimentExtension(p: string): string {
  if (p.endsWith(EXPERIMENT_SUFFIX)) return p;
  return p.endsWith('.json') ? p.slice(0, -'.json'.length) + EXPERIMENT_SUFFIX : p + EXPERIMENT_SUFFIX;
}

/**
 * Carries a menu action out: commands go straight to the renderer; dialogs are shown natively and,
 * unless cancelled, become experiment.open / experiment.saveAs with the chosen path.
 */
export function createMenuActions(opts: { dialog: DialogLike; sendCommand: (command: string, args?: string[]) => void; onFileChosen?: () => void }) {
  return async (action: MenuAction): Promise<void> => {
    if (action.kind === 'command') return opts.sendCommand(action.command, action.args);
    if (action.kind === 'openDialog') {
      const r = await opts.dialog.showOpenDialog({ title: 'Open experiment', properties: ['openFile'], filters: FILTERS });
      if (r.canceled || !r.filePaths[0]) return;
      opts.sendCommand('experiment.open', [r.filePaths[0]]);
    } else {
      const r = await opts.dialog.showSaveDialog({ title: 'Save experiment as', filters: FILTERS });
      if (r.canceled || !r.filePath) return;
      opts.sendCommand('experiment.saveAs', [withExperimentExtension(r.filePath)]);
    }
    opts.onFileChosen?.();
  };
}
