import type { ExperimentInput } from '../../common/experiment';
import type { WorkbenchApi } from '../../common/workbenchApi';
import { UPLOAD_MAX_BYTES } from '../../common/dataUpload';
import { ApiError, setApi } from '../api';
import { newCell } from '../lib/cellConfig';
import { useStore } from '../state/store';
import { deepEqual, equal, ok, test } from '../dashboards/testing';
import { addDataFile, relativeDatasetPath, sourceWithFile, type AddFileStatus } from './dataFiles';

const PATH = '/w/exp/x.experiment.json';
const doc = (): ExperimentInput => ({ format: 'transformer-workbench.experiment', version: 2, name: 'x', cells: [newCell('dataset', [])] });
const source = () => (useStore.getState().doc!.cells[0] as { dataset: { source: unknown } }).dataset.source;

/** A host whose data/ folder already holds `taken`; it records every dataset.upload call. */
function fakeHost(taken: string[] = [], confirmAnswer = true) {
  const calls: { name: string; contentBase64: string; overwrite?: boolean }[] = [];
  setApi({
    async call(method: string, params: { name: string; contentBase64: string; overwrite?: boolean }) {
      if (method !== 'dataset.upload') throw new Error(`unexpected call ${method}`);
      calls.push(params);
      if (taken.includes(params.name) && !params.overwrite) throw new ApiError('BUSY', `data/${params.name}: already exists with other content (3 bytes); rename the file you add, or replace the one there`, ['overwrite']);
      return { path: `data/${params.name}`, bytes: atob(params.contentBase64).length, unchanged: false };
    },
    on: () => () => {},
  } as unknown as WorkbenchApi);
  let confirms = 0;
  (globalThis as { window?: unknown }).window = { confirm: () => { confirms++; return confirmAnswer; } };
  return { calls, confirms: () => confirms };
}

async function add(file: File): Promise<AddFileStatus[]> {
  const seen: AddFileStatus[] = [];
  await addDataFile('dataset', file, (s) => seen.push(s));
  return seen;
}

test('a source takes the added file: a file source keeps its unit, others become a file of paragraphs, .jsonl a jsonl source', () => {
  deepEqual(sourceWithFile({ kind: 'corpus', corpus: 'brown' }, 'data/a.txt'), { kind: 'file', path: 'data/a.txt', unit: 'paragraph' });
  deepEqual(sourceWithFile({ kind: 'file', path: 'old.txt', unit: 'file' }, 'data/a.txt'), { kind: 'file', path: 'data/a.txt', unit: 'file' });
  deepEqual(sourceWithFile({ kind: 'folder', path: 'd' }, 'data/b.jsonl'), { kind: 'jsonl', path: 'data/b.jsonl', textField: 'text' });
  deepEqual(sourceWithFile({ kind: 'jsonl', path: 'x', textField: 'body' }, 'data/b.JSONL'), { kind: 'jsonl', path: 'data/b.JSONL', textField: 'body' });
});

test('a file added to a saved experiment is sent whole, and the cell names it relative to the experiment', async () => {
  const host = fakeHost();
  useStore.getState().loadDocument(doc(), PATH, 1);
  const seen = await add(new File(['To be, or not to be'], 'hamlet [act 3].txt'));
  equal(host.calls.length, 1);
  equal(host.calls[0].name, 'hamlet -act 3-.txt');
  equal(atob(host.calls[0].contentBase64), 'To be, or not to be');
  deepEqual(source(), { kind: 'file', path: 'data/hamlet -act 3-.txt', unit: 'paragraph' });
  deepEqual(seen.map((s) => s.state), ['sending', 'done']);
  ok(/Added: data\/hamlet -act 3-\.txt/.test((seen[1] as { message: string }).message));
});

test('a name already taken is replaced only after the user agrees', async () => {
  const refused = fakeHost(['a.txt'], false);
  useStore.getState().loadDocument(doc(), PATH, 1);
  const seen = await add(new File(['new'], 'a.txt'));
  equal(refused.confirms(), 1);
  equal(refused.calls.length, 1, 'no second call when the user says no');
  equal(seen.at(-1)!.state, 'error');
  deepEqual(source(), { kind: 'corpus', corpus: 'brown' }, 'the cell is left as it was');

  const agreed = fakeHost(['a.txt'], true);
  await add(new File(['new'], 'a.txt'));
  deepEqual(agreed.calls.map((c) => c.overwrite), [false, true]);
  deepEqual(source(), { kind: 'file', path: 'data/a.txt', unit: 'paragraph' });
});

test('too large or empty files are refused in the page, before anything is sent', async () => {
  const host = fakeHost();
  useStore.getState().loadDocument(doc(), PATH, 1);
  const big = await add(new File([new Uint8Array(UPLOAD_MAX_BYTES + 1)], 'big.txt'));
  ok(big.length === 1 && big[0].state === 'error' && /over the 10\.0 MiB/.test(big[0].message));
  const empty = await add(new File([], 'e.txt'));
  ok(empty[0].state === 'error' && /is empty/.test(empty[0].message));
  equal(host.calls.length, 0);
});

test('an unsaved experiment is saved first; the file follows once it has a folder', async () => {
  const host = fakeHost();
  useStore.getState().loadDocument(doc(), null, null);
  const seen = await add(new File(['some text'], 'later.txt'));
  deepEqual(seen.map((s) => s.state), ['waiting']);
  equal(useStore.getState().openDialog, 'save');
  equal(host.calls.length, 0);
  useStore.getState().markSaved(PATH, 2, useStore.getState().doc!);
  for (let i = 0; i < 20 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
  deepEqual(seen.map((s) => s.state), ['waiting', 'sending', 'done']);
  deepEqual(source(), { kind: 'file', path: 'data/later.txt', unit: 'paragraph' });
});

test("a typed absolute path inside the experiment's folder is stored relative to it", () => {
  useStore.getState().loadDocument(doc(), PATH, 1);
  equal(relativeDatasetPath('/w/exp/data/input.txt'), 'data/input.txt');
  equal(relativeDatasetPath('/elsewhere/input.txt'), '/elsewhere/input.txt');
});
