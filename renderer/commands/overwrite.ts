import { saveExperiment } from '../session/documents';
import { register } from './register';

/** Overwrite: saves over the document's file even though it changed on disk since it was opened. */
export const overwrite = register({
  id: 'experiment.overwrite',
  label: 'Overwrite',
  enabled: (s) => s.doc !== null && s.path !== null,
  async perform() {
    await saveExperiment(undefined, { overwrite: true });
  },
});
