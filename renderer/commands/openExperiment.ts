import { confirmDiscard, openExperiment as open } from '../session/documents';
import { register } from './register';

/** Open: args[0] is a path (the desktop menu's file dialog passes one); without it the open dialog shows. */
export const openExperiment = register({
  id: 'experiment.open',
  label: 'Open…',
  keybinding: 'Mod+O',
  inEditors: true,
  async perform(ctx) {
    if (!ctx.args[0]) { ctx.getState().setOpenDialog('open'); return; }
    if (!confirmDiscard('Open another experiment')) return;
    await open(ctx.args[0]);
  },
});
