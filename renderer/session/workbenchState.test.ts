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
  const disk: { doc: ExperimentInput; state: unknown; stateWrites: number; migratedFrom?: number; carried?: unknown } = { doc: experiment(), state: undefined, stateWrites: 0 };
  const api = {
    async call(method: string, params: Record<string, unknown>) {
      switch (method) {
        case 'experiments.open': {
          const state = disk.carried ?? disk.state;
          return { path: PATH, doc: structuredClone(disk.doc), mtimeMs: 1, ...(state ? { state: structuredClone(state) } : {}), ...(disk.migratedFrom ? { migratedFrom: disk.migratedFrom } : {}) };
        }
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

test('opening writes nothing beside the file, unless a version 1 file carried previews to be moved there', async () => {
  const disk = fakeHost();
  const stop = startAutosave();
  try {
    disk.state = { format: 'transformer-workbench.state', version: 1, previews: {}, overlay: { pretrain: { r2: true } } };
    ok(await openExperiment(PATH));
    await settle();
    equal(disk.stateWrites, 0, 'an unchanged state is not written again:');
    reload();
    const preview = { stats: {}, cleaning: {}, lengthHistogram: { bounds: [], counts: [] }, vocabSize: 65, configHash: 'h', at: '2026-11-25T10:00:00.000Z' };
    disk.carried = { format: 'transformer-workbench.state', version: 1, previews: { dataset: preview }, overlay: {} };
    disk.migratedFrom = 1;
    ok(await openExperiment(PATH));
    await settle();
    equal(disk.stateWrites, 1);
    equal((disk.state as { previews: Record<string, { vocabSize: number }> }).previews.dataset.vocabSize, 65);
  } finally { stop(); }
});
