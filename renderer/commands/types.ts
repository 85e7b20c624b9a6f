import type { WorkbenchApi } from '../../common/workbenchApi';
import type { Shell } from '../api';
import type { Store } from '../state/store';

/** What a command gets to do its work: the API, the store, and arguments (the desktop menu may pass a path). */
export interface CommandContext {
  api: WorkbenchApi;
  shell: Shell;
  getState: () => Store;
  /** the cell the command acts on: the toolbar's cell, else the selected one */
  cellId: string | null;
  args: string[];
}

/**
 * A user command as data (excalidraw's actions): the toolbar, the keyboard, the cell toolbars and the
 * desktop menu (onMenuCommand) all run these by id, so each behaves the same wherever it is invoked.
 */
export interface Command {
  id: string;
  label: string;
  /** e.g. 'Mod+S', 'Shift+Enter' (Mod is Cmd on macOS, Ctrl elsewhere) */
  keybinding?: string;
  /** fires even while focus is in a text field or editor (Ctrl+S should save from anywhere) */
  inEditors?: boolean;
  /** true for commands that act on one cell */
  cellScoped?: boolean;
  enabled?(state: Store, cellId: string | null): boolean;
  perform(ctx: CommandContext): void | Promise<void>;
}
