import { errorMessage, getApi } from '../api';
import { useStore } from '../state/store';

/** The Serve button's calls: a run's model behind the local inference server (`workbench serve`), and its end. */

export async function startServe(runId: string): Promise<void> {
  const { path, setServe } = useStore.getState();
  if (!path) return;
  setServe(runId, { phase: 'starting' });
  try {
    setServe(runId, { phase: 'serving', info: await getApi().call('serve.start', { experimentPath: path, runId }) });
  } catch (err) {
    setServe(runId, { phase: 'failed', message: errorMessage(err) });
  }
}

export async function stopServe(runId: string): Promise<void> {
  const { path, setServe } = useStore.getState();
  setServe(runId, null);
  if (!path) return;
  try {
    await getApi().call('serve.stop', { experimentPath: path, runId });
  } catch (err) {
    useStore.getState().showBanner({ tone: 'error', title: 'Could not stop the server', message: errorMessage(err) });
  }
}
