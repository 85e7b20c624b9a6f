import type { ExperimentInput } from '../../common/experiment';
import type { WorkbenchApi } from '../../common/workbenchApi';
import { setApi } from '../api';
import { newCell } from '../lib/cellConfig';
import { overlaidRunIds } from '../state/selectors';
import { useStore } from '../state/store';
import { deepEqual, equal, ok, test } from '../dashboards/testing';
import { openExperiment, startAutosave } from './documents';

const PATH = '/w/x.experiment.json';

/** an experiment whose pretrain cell ran r1, r2, r3 */
function experiment(): ExperimentInput {
  const cells = [newCell('dataset', []), newCell('model', []), newCell('pretrain', [])];
  const pre = cells[2];
  if (pre.kind === 'pretrain') pre.runs = ['r1', 'r2', 'r3'].map((runId) => ({ runId, status: 'completed' }));
  return { format: 'transformer-workbench.experiment', version: 2, name: 'x', cells };
}

/** A host with one experiment file and what it keeps beside it (NAME.runs/workbench-state.json). */
function fakeHost() {
  const disk: { doc: ExperimentInput; state: unknown; stateWrites: number } = { doc: experiment(), state: undefined, stateWrites: 0 };
  const api = {
    async call(method: string, params: Record<string, unknown>) {
      switch (method) {
        case 'experiments.open': return { path: PATH, doc: structuredClone(disk.doc), mtimeMs: 1, ...(disk.state ? { state: structuredClone(disk.state) } : {}) };
        case 'experiments.saveState': disk.state = structuredClone(params.state); disk.stateWrites += 1; return {};
        case 'runs.list': return ['r1', 'r2', 'r3'].map((id) => ({ ok: false, id, problem: 'not read in this test' }));
        default: throw new Error(`unexpected call ${method}`);
      }
    },
    on: () => () => {},
  } as unknown as WorkbenchApi;
  setApi(api);
  (globalThis as { window?: unknown }).window = { confirm: () => true, addEventListener: () => {}, removeEventListener: () => {} };
  return disk;
}

const settle = () => new Promise((r) => setTimeout(r, 20));
/** what a page reload forgets: everything in the store */
const reload = () => useStore.setState({ doc: null, path: null, runOverlay: {}, previews: {}, jobs: {}, history: [] });

test('the runs ticked for overlay are kept beside the experiment across a reload', async () => {
  const disk = fakeHost();
  const stop = startAutosave();
  try {
    ok(await openExperiment(PATH));
    deepEqual(overlaidRunIds(useStore.getState(), 'pretrain'), ['r3'], 'a cell with no choices shows its newest run:');
    useStore.getState().setRunOverlaid('pretrain', 'r1', true);
    await settle();
    reload();
    ok(await openExperiment(PATH));
    deepEqual(overlaidRunIds(useStore.getState(), 'pretrain'), ['r3', 'r1']);
    equal(disk.doc.cells.length, 3);
  } finally { stop(); }
});
