import { register } from './register';

/*
 * Undo and redo act on the document's history from form fields too: a field writes to the document as it
 * changes, so its edits are the document's steps (quick ones of one field merged), and an input's own
 * undo would only disagree with them. Monaco keeps its own undo (inEditors 'fields', not true).
 */

export const undo = register({
  id: 'edit.undo',
  label: 'Undo',
  keybinding: 'Mod+Z',
  inEditors: 'fields',
  enabled: (s) => s.past.length > 0,
  perform: (ctx) => ctx.getState().undo(),
});

export const redo = register({
  id: 'edit.redo',
  label: 'Redo',
  keybinding: 'Mod+Y',
  inEditors: 'fields',
  enabled: (s) => s.future.length > 0,
  perform: (ctx) => ctx.getState().redo(),
});

/** the macOS spelling of redo */
export const redoShift = register({
  id: 'edit.redoShift',
  label: 'Redo',
  keybinding: 'Mod+Shift+Z',
  inEditors: 'fields',
  enabled: (s) => s.future.length > 0,
  perform: (ctx) => ctx.getState().redo(),
});
