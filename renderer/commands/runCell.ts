import { runCell as run } from '../session/runs';
import { cellIndex } from '../state/selectors';
import { register } from './register';

/** Shift+Enter: a dataset cell previews its data, a pretrain cell starts a run; the reason shows when it cannot. */
export const runCell = register({
  id: 'cell.run',
  label: 'Run cell',
  keybinding: 'Shift+Enter',
  inEditors: true,
  cellScoped: true,
  enabled: (s, id) => cellIndex(s, id) >= 0,
  async perform(ctx) {
    await run(ctx.cellId!);
  },
});
