import { reopenFromDisk } from '../session/documents';
import { register } from './register';

/** Reopen from disk: the file as it is now, e.g. after another program changed it; edits here are dropped (after a confirm). */
export const reopenExperiment = register({
  id: 'experiment.reopen',
  label: 'Reopen from disk',
  enabled: (s) => s.path !== null,
  async perform() {
    await reopenFromDisk();
  },
});
