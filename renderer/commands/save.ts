import { saveExperiment } from '../session/documents';
import { register } from './register';

export const save = register({
  id: 'experiment.save',
  label: 'Save',
  keybinding: 'Mod+S',
  inEditors: true,
  enabled: (s) => s.doc !== null,
  async perform(ctx) {
    // a document without a path is saved through the dialog, which asks where
    if (!ctx.getState().path) { ctx.getState().setOpenDialog('save'); return; }
    await saveExperiment();
  },
});
