import { saveExperiment } from '../session/documents';
import { register } from './register';

/** Save as: args[0] is the new path (the desktop menu's dialog), else the dialog asks for one. */
export const saveAs = register({
  id: 'experiment.saveAs',
  label: 'Save as…',
  keybinding: 'Mod+Shift+S',
  inEditors: true,
  enabled: (s) => s.doc !== null,
  async perform(ctx) {
    if (!ctx.args[0]) { ctx.getState().setOpenDialog('save'); return; }
    await saveExperiment(ctx.args[0]);
  },
});
