import { confirmDiscard, newFromTemplate } from '../session/documents';
import { register } from './register';

/** New experiment from a template: args[0] names the template, else the open dialog lists them. */
export const newExperiment = register({
  id: 'experiment.new',
  label: 'New experiment',
  keybinding: 'Mod+Alt+N',
  async perform(ctx) {
    if (!ctx.args[0]) { ctx.getState().setOpenDialog('open'); return; }
    if (!confirmDiscard('Start a new experiment')) return;
    await newFromTemplate(ctx.args[0]);
  },
});
