import { cellIndex } from '../state/selectors';
import { register } from './register';

export const collapseCell = register({
  id: 'cell.toggleCollapse',
  label: 'Collapse / expand cell',
  keybinding: 'Mod+.',
  cellScoped: true,
  enabled: (s, id) => cellIndex(s, id) >= 0,
  perform(ctx) {
    const s = ctx.getState();
    s.setCollapsed(ctx.cellId!, !s.collapsed[ctx.cellId!]);
  },
});
