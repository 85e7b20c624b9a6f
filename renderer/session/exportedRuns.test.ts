import type { ExperimentInput } from '../../common/experiment';
import type { WorkbenchApi } from '../../common/workbenchApi';
import { setApi } from '../api';
import { newCell } from '../lib/cellConfig';
import type { RunListItem } from '../state/runsSlice';
import { overlaidRunIds } from '../state/selectors';
import { useStore } from '../state/store';
import { deepEqual, test } from '../dashboards/testing';
import { refreshHistory } from './runs';

const PATH = '/w/x.experiment.json';

/** A run of the list as the host reads it; `trainedBy` when PyTorch trained it from the project of the cell named. */
function listed(id: string, cellId?: string): RunListItem {
  const spec = { name: 'x', dataset: { source: { kind: 'corpus', corpus: 'brown' } }, tokenizer: { kind: 'char' }, model: { arch: 'gpt', contextLength: 8, dModel: 8, nHeads: 2, nLayers: 1 }, pretrain: {} };
  const trainedBy = cellId === undefined ? {} : { trainedBy: { engine: 'pytorch', version: '1.13', processes: 2, strategy: 'zero1', precision: 'fp32', device: 'cpu', cellId } };
  return {
    ok: true, id,
    run: {
      format: 'transformer-workbench.run', version: 1, id, name: 'x', created: '2026-01-01T00:00:00Z', updated: '2026-01-01T00:00:00Z', status: 'completed',
      config: { task: 'pretrain', spec, baseDir: '/w', ...trainedBy },
      backend: { name: 'cpu', tfBackend: 'torch', package: 'torch', version: '1.13', device: 'CPU', threads: 1 }, seed: 1, step: 20, tokensSeen: 100, bestValLoss: 2, lastCheckpoint: 'step-00000020',
    },
  } as RunListItem;
}

test('a run PyTorch trained from a cell\'s exported project joins that cell\'s runs and its dashboard; other runs do not', async () => {
  const cells = [newCell('dataset', []), newCell('model', []), newCell('pretrain', [])];
  const pre = cells[2];
  if (pre.kind === 'pretrain') pre.runs = [{ runId: 'engine-run', status: 'completed' }];
  const doc: ExperimentInput = { format: 'transformer-workbench.experiment', version: 2, name: 'x', cells };
  useStore.setState({ jobs: {}, selectedRunId: null, runOverlay: {} });
  useStore.getState().loadDocument(doc, PATH, 1);
  const runs = [listed('engine-run'), listed('torch-run', pre.id), listed('cli-run'), listed('stray-run', 'no-such-cell')];
  setApi({ call: async (method: string) => { if (method === 'runs.list') return runs; throw new Error(`unexpected ${method}`); }, on: () => () => {} } as unknown as WorkbenchApi);
  await refreshHistory();
  const cell = useStore.getState().doc!.cells.find((c) => c.id === pre.id)!;
  deepEqual(cell.kind === 'pretrain' ? (cell.runs ?? []).map((r) => r.runId) : [], ['engine-run', 'torch-run']);
  useStore.getState().setRunOverlaid(pre.id, 'engine-run', true);
  useStore.getState().setRunOverlaid(pre.id, 'torch-run', true);
  deepEqual(overlaidRunIds(useStore.getState(), pre.id), ['torch-run', 'engine-run']);
  await refreshHistory(); // listed again: adopted once
  const again = useStore.getState().doc!.cells.find((c) => c.id === pre.id)!;
  deepEqual(again.kind === 'pretrain' ? (again.runs ?? []).length : 0, 2);
});
