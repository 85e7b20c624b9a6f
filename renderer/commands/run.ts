import { getApi, shell } from '../api';
import { useStore } from '../state/store';
import { getCommand } from './register';
import type { CommandContext } from './types';

/** Runs a command by id if it is enabled; the one entry point for toolbar, keyboard and menu. */
export async function runCommand(id: string, opts: { cellId?: string | null; args?: string[] } = {}): Promise<boolean> {
  const command = getCommand(id);
  if (!command) {
    console.warn(`no command '${id}'`);
    return false;
  }
  const state = useStore.getState();
  const cellId = opts.cellId !== undefined ? opts.cellId : state.selectedCellId;
  if (command.enabled && !command.enabled(state, cellId)) return false;
  const ctx: CommandContext = { api: getApi(), shell: shell(), getState: useStore.getState, cellId, args: opts.args ?? [] };
  try {
    await command.perform(ctx);
  } catch (err) {
    useStore.getState().showBanner({ tone: 'error', title: `${command.label} failed`, message: err instanceof Error ? err.message : String(err) });
  }
  return true;
}
