import { allCommands } from './register';
import { runCommand } from './run';

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

/** Keys typed into a field or Monaco belong to it (its own undo), except commands marked inEditors. */
function inEditor(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.closest) return false;
  return Boolean(el.closest('input, textarea, select, [contenteditable="true"], .monaco-editor'));
}

/** Routes key chords to commands by their keybinding; returns the uninstaller. */
export function installKeyboard(): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.repeat && !e.key.startsWith('Arrow')) return;
    const c = chord(e);
    const command = allCommands().find((x) => x.keybinding?.toUpperCase() === c.toUpperCase());
    if (!command) return;
    if (inEditor(e.target) && !command.inEditors) return;
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
