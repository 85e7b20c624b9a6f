import type { ExperimentInput } from '../../common/experiment';
import type { WorkbenchApi } from '../../common/workbenchApi';
import { ApiError, setApi } from '../api';
import { runCommand } from '../commands';
import { newCell } from '../lib/cellConfig';
import { updateCell } from '../state/documentSlice';
import { isDirty } from '../state/selectors';
import { useStore } from '../state/store';
import { deepEqual, equal, ok, test } from '../dashboards/testing';
import { openExperiment, saveExperiment } from './documents';

const PATH = '/w/x.experiment.json';
const doc = (name: string): ExperimentInput => ({
  format: 'transformer-workbench.experiment', version: 2, name,
  cells: [newCell('dataset', []), newCell('model', []), newCell('pretrain', [])],
});

/**
 * A host with one experiment file: `experiments.save` behaves as electron/host/experimentFiles.ts does —
 * refused with BUSY when expectedMtimeMs is given and the file's mtime differs, written otherwise.
 */
function fakeHost() {
  const disk = { doc: doc('on disk'), mtimeMs: 1 };
  const saves: { expectedMtimeMs?: number }[] = [];
  let confirms = 0;
  const api = {
    async call(method: string, params: Record<string, unknown>) {
      switch (method) {
        case 'experiments.open': return { path: PATH, doc: structuredClone(disk.doc), mtimeMs: disk.mtimeMs };
        case 'experiments.save': {
          saves.push({ ...(params.expectedMtimeMs !== undefined ? { expectedMtimeMs: params.expectedMtimeMs as number } : {}) });
          if (params.expectedMtimeMs !== undefined && params.expectedMtimeMs !== disk.mtimeMs) {
            throw new ApiError('BUSY', `${PATH}: changed on disk since it was opened (another program or window wrote it); reopen it to see those changes, or save again without the check to replace them`, ['expectedMtimeMs']);
          }
          disk.doc = structuredClone(params.doc) as ExperimentInput;
          disk.mtimeMs += 1;
          return { path: PATH, mtimeMs: disk.mtimeMs };
        }
        case 'runs.list': return [];
        default: throw new Error(`unexpected call ${method}`);
      }
    },
    on: () => () => {},
  } as unknown as WorkbenchApi;
  setApi(api);
  (globalThis as { window?: unknown }).window = { confirm: () => { confirms += 1; return true; } };
  return { disk, saves, confirms: () => confirms };
}

const edit = (title: string) => useStore.getState().editDocument((d) => updateCell(d, 'model', (c) => ({ ...c, title })));
const conflictBanner = () => useStore.getState().banners.find((b) => b.id === 'doc-save-failed');

test('a save over a file changed on disk offers Overwrite and Reopen, and Overwrite replaces it', async () => {
  const host = fakeHost();
  ok(await openExperiment(PATH));
  host.disk.doc = { ...host.disk.doc, name: 'written elsewhere' };
  host.disk.mtimeMs = 50;
  edit('mine');
  equal(await saveExperiment(), false);
  const banner = conflictBanner();
  ok(banner, 'a banner says why');
  ok(/changed on disk/.test(banner.title), banner.title);
  deepEqual(banner.actions?.map((a) => a.label), ['Reopen from disk', 'Overwrite']);
  // saving again keeps the check, so it fails the same way: the banner's actions are the way out
  equal(await saveExperiment(), false);

  ok(await runCommand('experiment.overwrite'));
  deepEqual(host.saves.at(-1), {}, 'the overwrite is sent without expectedMtimeMs');
  equal(host.disk.doc.cells[1].title, 'mine');
  equal(conflictBanner(), undefined);
  equal(isDirty(useStore.getState()), false);
  equal(useStore.getState().mtimeMs, host.disk.mtimeMs, 'later saves check against the new mtime');
  edit('mine, later');
  equal(await saveExperiment(), true);
  deepEqual(host.saves.at(-1), { expectedMtimeMs: host.disk.mtimeMs - 1 });
});

test('Reopen from disk asks, then drops the edits here for the file as it is now', async () => {
  const host = fakeHost();
  ok(await openExperiment(PATH));
  host.disk.doc = { ...host.disk.doc, name: 'written elsewhere' };
  host.disk.mtimeMs = 70;
  edit('mine');
  equal(await saveExperiment(), false);
  ok(conflictBanner());
  ok(await runCommand('experiment.reopen'));
  equal(host.confirms(), 1, 'the unsaved edits are not dropped without asking');
  const s = useStore.getState();
  equal(s.doc!.name, 'written elsewhere');
  equal(s.doc!.cells[1].title, undefined);
  equal(s.mtimeMs, 70);
  equal(conflictBanner(), undefined);
  equal(isDirty(s), false);
});

test('an overwrite still reports what the host refuses', async () => {
  const host = fakeHost();
  ok(await openExperiment(PATH));
  edit('mine');
  const api = { call: async () => { throw new ApiError('INVALID_CONFIG', `${PATH}: exists and is not an experiment this workbench can read, so it is not written over`); }, on: () => () => {} } as unknown as WorkbenchApi;
  setApi(api);
  equal(await saveExperiment(undefined, { overwrite: true }), false);
  const banner = conflictBanner();
  ok(banner && /not written over/.test(banner.message ?? ''), 'the refusal is shown');
  equal(banner!.actions, undefined, 'no Overwrite is offered for a file that is not an experiment');
  equal(host.saves.length, 0);
});

test('a refused file is reported once, in the host\'s words', async () => {
  const message = '/w/bad.experiment.json: is not valid JSON (Unexpected token)\nThe file was not changed, and the workbench will not write over it.';
  setApi({ call: async () => { throw new ApiError('INVALID_CONFIG', message); }, on: () => () => {} } as unknown as WorkbenchApi);
  equal(await openExperiment('/w/bad.experiment.json'), false);
  equal(useStore.getState().banners.find((b) => b.id === 'doc-open-failed')?.message, message);
});
