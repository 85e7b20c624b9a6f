import { compressSettingsOf } from '../../common/compressCell';
import { errorMessage, getApi } from '../api';
import type { CellInput } from '../lib/cellConfig';
import { refreshHistory } from '../session/runs';
import { useStore } from '../state/store';

type CompressCellT = Extract<CellInput, { kind: 'compress' }>;

/**
 * Run on a compress cell: a variant of its base run by its method, started as a derived run (runs.derive),
 * whose job the cell follows like a pretrain cell's — progress, stop, and the dashboards' live curves.
 */
export async function deriveVariant(cell: CompressCellT): Promise<void> {
  const s = useStore.getState();
  const bannerId = `run-${cell.id}`;
  if (!s.path || !cell.baseRunId) {
    s.showBanner({ id: bannerId, tone: 'info', title: 'Pick a base run first', message: 'The compress cell makes a variant of a run of this (saved) experiment.' });
    return;
  }
  const settings = compressSettingsOf(cell);
  if (!settings.ok) {
    s.showBanner({ id: bannerId, tone: 'warning', title: `Cannot run '${cell.id}'`, message: settings.problem });
    return;
  }
  s.dismissBanner(bannerId);
  const method = cell.method ?? 'int8';
  try {
    const { runId } = await getApi().call('runs.derive', {
      experimentPath: s.path, baseRunId: cell.baseRunId, checkpoint: cell.checkpoint ?? 'last', task: 'compress', settings: settings.settings,
      name: `${method} of ${cell.baseRunId}`,
    });
    useStore.getState().jobStarted(runId, cell.id, null);
    void refreshHistory();
  } catch (err) {
    useStore.getState().showBanner({ id: bannerId, tone: 'error', title: `Could not start the ${method} variant`, message: errorMessage(err) });
  }
}
