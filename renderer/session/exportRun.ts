import { errorMessage, getApi } from '../api';
import { useStore } from '../state/store';

/** The Export button's call: the run's last checkpoint as a bundle in bundles/RUN_ID beside the experiment, verified before it is published. */
export async function exportRun(runId: string, overwrite = false): Promise<void> {
  const { path, setExport } = useStore.getState();
  if (!path) return;
  setExport(runId, { phase: 'exporting' });
  try {
    setExport(runId, { phase: 'done', result: await getApi().call('runs.export', { experimentPath: path, runId, overwrite }) });
  } catch (err) {
    setExport(runId, { phase: 'failed', message: errorMessage(err) });
  }
}
