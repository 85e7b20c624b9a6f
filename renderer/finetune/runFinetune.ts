import { errorMessage, getApi } from '../api';
import { saveExperiment } from '../session/documents';
import { started } from '../session/runs';
import { isDirty } from '../state/selectors';
import { useStore } from '../state/store';

/**
 * Runs a fine-tune cell: the saved experiment's run `baseRunId` at its checkpoint, fine-tuned with the cell's
 * settings as a derived run (WorkbenchApi `runs.derive`); its events reach the dashboards as any run's.
 */
export async function runFinetuneCell(cellId: string): Promise<void> {
  const s = useStore.getState();
  if (!s.path) {
    s.showBanner({ id: `run-${cellId}`, tone: 'info', title: 'Save the experiment first', message: 'Fine-tuned runs are kept beside the experiment file, with its other runs.' });
    s.setOpenDialog('save');
    return;
  }
  if (isDirty(s) && !(await saveExperiment())) return;
  const cell = useStore.getState().doc?.cells.find((c) => c.id === cellId);
  if (!cell || cell.kind !== 'finetune' || !cell.baseRunId) return;
  try {
    const { runId } = await getApi().call('runs.derive', {
      experimentPath: useStore.getState().path!, baseRunId: cell.baseRunId, checkpoint: cell.checkpoint ?? 'last', task: 'finetune',
      settings: cell.finetune as Record<string, unknown>, name: `${cell.title ?? cell.id}: fine-tune of ${cell.baseRunId}`,
    });
    started(runId, cellId, null);
  } catch (err) {
    useStore.getState().showBanner({ id: `run-${cellId}`, tone: 'error', title: `Could not start '${cellId}'`, message: errorMessage(err) });
  }
}
