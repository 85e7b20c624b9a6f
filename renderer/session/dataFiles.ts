import { DATA_FOLDER, UPLOAD_MAX_BYTES, safeDataFileName, tooLargeMessage } from '../../common/dataUpload';
import type { DatasetSource } from '../../common/datasetConfig';
import { datasetPathForCell } from '../../common/datasetPath';
import { errorMessage, getApi } from '../api';
import { bytes } from '../lib/format';
import { updateCell } from '../state/documentSlice';
import { useStore } from '../state/store';

/**
 * Data files brought in through the page: a file picked or dropped on a dataset cell is sent to the host
 * (dataset.upload), which writes it into data/ beside the saved experiment, and the cell's source then
 * names it by its path relative to the experiment. An unsaved experiment is saved first (the Save dialog);
 * the file follows as soon as it has a folder.
 */

const store = useStore;

export type AddFileStatus =
  | { state: 'waiting'; name: string }
  | { state: 'sending'; name: string }
  | { state: 'done'; message: string }
  | { state: 'error'; message: string };

type SourceInput = Record<string, unknown> & { kind?: string };

/**
 * The source once the file at `path` (relative to the experiment) is added: a file or JSON Lines source
 * keeps its other settings; any other source becomes a file source of paragraphs (or a jsonl source for
 * a .jsonl file).
 */
export function sourceWithFile(current: SourceInput | undefined, path: string): SourceInput {
  const jsonl = path.toLowerCase().endsWith('.jsonl');
  if (jsonl) return current?.kind === 'jsonl' ? { ...current, path } : { kind: 'jsonl', path, textField: 'text' };
  return current?.kind === 'file' ? { ...current, path } : { kind: 'file', path, unit: 'paragraph' } satisfies Extract<DatasetSource, { kind: 'file' }>;
}

/** A path typed into the cell, stored relative to the experiment when it lies in its folder tree. */
export function relativeDatasetPath(typed: string): string {
  return datasetPathForCell(typed, store.getState().path);
}

/** The file's bytes as base64, in slices (a spread of millions of arguments would overflow the stack). */
async function readBase64(file: Blob): Promise<string> {
  const data = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** What the page can tell about a file before sending it: the host checks the same and more. */
function problemBeforeSending(file: File, name: string | null): string | null {
  if (!name) return `${file.name}: has no usable file name; rename it to letters, digits and . _ -`;
  if (file.size > UPLOAD_MAX_BYTES) return tooLargeMessage(file.name, file.size);
  if (file.size === 0) return `${file.name}: is empty; add a file that holds text`;
  return null;
}

let waiting: { cellId: string; file: File; report: (s: AddFileStatus) => void; unsubscribe: () => void } | null = null;

async function send(cellId: string, file: File, name: string, report: (s: AddFileStatus) => void): Promise<void> {
  report({ state: 'sending', name });
  const experimentPath = store.getState().path!;
  try {
    const contentBase64 = await readBase64(file);
    const call = (overwrite: boolean) => getApi().call('dataset.upload', { experimentPath, name, contentBase64, overwrite });
    let r;
    try {
      r = await call(false);
    } catch (err) {
      const e = err as { code?: string; path?: unknown[] };
      if (e.code !== 'BUSY' || !e.path?.includes('overwrite')) throw err;
      if (!window.confirm(`${errorMessage(err)}.\n\nReplace ${DATA_FOLDER}/${name} with the file you added?`)) {
        report({ state: 'error', message: `${DATA_FOLDER}/${name} is kept as it was; rename your file to add it beside it` });
        return;
      }
      r = await call(true);
    }
    store.getState().editDocument((doc) => updateCell(doc, cellId, (c) => (c.kind === 'dataset'
      ? { ...c, dataset: { ...c.dataset, source: sourceWithFile(c.dataset.source as SourceInput, r.path) as never } }
      : c)));
    report({ state: 'done', message: `${r.unchanged ? 'Already there, unchanged' : 'Added'}: ${r.path} (${bytes(r.bytes)})` });
  } catch (err) {
    report({ state: 'error', message: errorMessage(err) });
  }
}

/**
 * Adds a picked or dropped file to the dataset cell `cellId`; `report` follows it (waiting for a save,
 * sending, done or refused). A second file while one waits for the save replaces it.
 */
export async function addDataFile(cellId: string, file: File, report: (s: AddFileStatus) => void): Promise<void> {
  const name = safeDataFileName(file.name);
  const problem = problemBeforeSending(file, name);
  if (problem) { report({ state: 'error', message: problem }); return; }
  if (store.getState().path) return send(cellId, file, name!, report);

  waiting?.unsubscribe();
  const unsubscribe = store.subscribe((s) => {
    if (!s.path || !waiting) return;
    const w = waiting;
    waiting = null;
    w.unsubscribe();
    void send(w.cellId, w.file, name!, w.report);
  });
  waiting = { cellId, file, report, unsubscribe };
  report({ state: 'waiting', name: name! });
  store.getState().setOpenDialog('save');
}
