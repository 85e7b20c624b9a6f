import { register } from './register';

export const undo = register({
  id: 'edit.undo',
  label: 'Undo',
  keybinding: 'Mod+Z',
  enabled: (s) => s.past.length > 0,
  perform: (ctx) => ctx.getState().undo(),
});

export const redo = register({
  id: 'edit.redo',
  label: 'Redo',
  keybinding: 'Mod+Y',
  enabled: (s) => s.future.length > 0,
  perform: (ctx) => ctx.getState().redo(),
});

/** the macOS spelling of redo */
export const redoShift = register({
  id: 'edit.redoShift',
  label: 'Redo',
  keybinding: 'Mod+Shift+Z',
  enabled: (s) => s.future.length > 0,
  perform: (ctx) => ctx.getState().redo(),
});
