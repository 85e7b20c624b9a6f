import { allCommands } from './register';
import { runCommand } from './run';
import type { Command } from './types';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/** 'Mod+Shift+S' for a keydown, in the registry's spelling. */
function chord(e: KeyboardEvent): string {
  const parts: string[] = [];
  if (isMac ? e.metaKey : e.ctrlKey) parts.push('Mod');
  if (e.altKey) parts.push('Alt');
  if (e.shiftKey) parts.push('Shift');
  const key = e.key.length === 1 ? e.key.toUpperCase() : e.key;
  parts.push(key === ' ' ? 'Space' : key);
  return parts.join('+');
}

/**
 * Where a key goes: 'editor' is a place with key handling of its own (Monaco's undo and its text, a
 * dialog's fields, which are not the document), 'field' a form field of the notebook (bound to the
 * document: its edits are the document's undo steps), 'none' anywhere else.
 */
export function focusKind(target: EventTarget | null): 'editor' | 'field' | 'none' {
  const el = target as HTMLElement | null;
  if (!el || typeof el.closest !== 'function') return 'none';
  if (el.closest('.monaco-editor, [contenteditable="true"], dialog')) return 'editor';
  if (el.closest('input, textarea, select')) return 'field';
  return 'none';
}

/** Whether a command's keybinding fires with focus there (Command.inEditors). */
export function firesIn(command: Command, where: ReturnType<typeof focusKind>): boolean {
  if (where === 'none') return true;
  if (where === 'field') return Boolean(command.inEditors);
  return command.inEditors === true;
}

/** Routes key chords to commands by their keybinding; returns the uninstaller. */
export function installKeyboard(): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.repeat && !e.key.startsWith('Arrow')) return;
    const c = chord(e);
    const command = allCommands().find((x) => x.keybinding?.toUpperCase() === c.toUpperCase());
    if (!command) return;
    if (!firesIn(command, focusKind(e.target))) return;
    e.preventDefault();
    e.stopPropagation();
    void runCommand(command.id);
  };
  window.addEventListener('keydown', onKey, true);
  return () => window.removeEventListener('keydown', onKey, true);
}

/** 'Mod+S' → '⌘S' or 'Ctrl+S' for tooltips. */
export function formatKeybinding(k: string | undefined): string {
  if (!k) return '';
  return isMac ? k.replace('Mod+', '⌘').replace('Shift+', '⇧').replace('Alt+', '⌥') : k.replace('Mod+', 'Ctrl+');
}
