import { focusAfterDelete, focusInside } from '../lib/reveal';
import { activeJobOf, cellIndex } from '../state/selectors';
import { register } from './register';

export const deleteCell = register({
  id: 'cell.delete',
  label: 'Delete cell',
  cellScoped: true,
  enabled: (s, id) => cellIndex(s, id) >= 0 && !activeJobOf(s, id ?? undefined),
  perform(ctx) {
    const s = ctx.getState();
    const i = cellIndex(s, ctx.cellId);
    const cell = s.doc!.cells[i];
    // runs stay on disk; the reference to them goes with the cell (and comes back with undo)
    if (cell.kind === 'pretrain' && cell.runs?.length && !window.confirm(`Delete '${cell.id}'? Its ${cell.runs.length} run(s) stay on disk; undo brings the cell back.`)) return;
    const hadFocus = focusInside(cell.id) !== null;
    s.editDocument((doc) => ({ ...doc, cells: doc.cells.filter((c) => c.id !== ctx.cellId) }));
    const next = s.doc!.cells[i + 1] ?? s.doc!.cells[i - 1];
    s.selectCell(next?.id ?? null);
    s.setJsonError(cell.id, null);
    focusAfterDelete(next?.id ?? null, hadFocus);
  },
});
