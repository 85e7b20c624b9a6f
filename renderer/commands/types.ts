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
  /**
   * Where focus may be for the keybinding to fire: true, anywhere, text fields and editors included
   * (Ctrl+S saves from anywhere); 'fields', also in the notebook's form fields (inputs, selects, text
   * areas, which write to the document as they change) but not in an editor with keys of its own
   * (Monaco, a dialog's fields); absent, only outside both.
   */
  inEditors?: boolean | 'fields';
  /** true for commands that act on one cell */
  cellScoped?: boolean;
  enabled?(state: Store, cellId: string | null): boolean;
  perform(ctx: CommandContext): void | Promise<void>;
}
