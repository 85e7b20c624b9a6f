import { focusInside, revealMovedCell } from '../lib/reveal';
import { cellIndex } from '../state/selectors';
import type { Store } from '../state/store';
import { register } from './register';
import type { Command } from './types';

function move(delta: -1 | 1): Command {
  const canMove = (s: Store, id: string | null) => {
    const i = cellIndex(s, id);
    return i >= 0 && i + delta >= 0 && i + delta < s.doc!.cells.length;
  };
  return register({
    id: delta < 0 ? 'cell.moveUp' : 'cell.moveDown',
    label: delta < 0 ? 'Move cell up' : 'Move cell down',
    keybinding: delta < 0 ? 'Alt+ArrowUp' : 'Alt+ArrowDown',
    cellScoped: true,
    enabled: canMove,
    perform(ctx) {
      const hadFocus = focusInside(ctx.cellId!);
      ctx.getState().editDocument((doc) => {
        const i = doc.cells.findIndex((c) => c.id === ctx.cellId);
        const cells = [...doc.cells];
        [cells[i], cells[i + delta]] = [cells[i + delta], cells[i]];
        return { ...doc, cells };
      });
      revealMovedCell(ctx.cellId!, hadFocus);
    },
  });
}

export const moveCellUp = move(-1);
export const moveCellDown = move(1);
