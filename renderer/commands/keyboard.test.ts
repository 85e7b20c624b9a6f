import type { ExperimentInput } from '../../common/experiment';
import type { WorkbenchApi } from '../../common/workbenchApi';
import { setApi } from '../api';
import { newCell } from '../lib/cellConfig';
import { updateCell } from '../state/documentSlice';
import { useStore } from '../state/store';
import { equal, ok, test } from '../dashboards/testing';
import { getCommand, installKeyboard } from '.';
import { firesIn, focusKind } from './keyboard';

/** A stand-in for a DOM element: `closest` answers for the selectors it (or an ancestor) matches. */
const el = (...matches: string[]) => ({
  closest: (selector: string) => (selector.split(',').some((s) => matches.includes(s.trim())) ? {} : null),
}) as unknown as EventTarget;
const formInput = el('input');
const formSelect = el('select');
const monaco = el('textarea', '.monaco-editor');
const dialogInput = el('input', 'dialog');
const button = el('button');

test('keys in a form field reach undo and redo; Monaco and dialogs keep their own', () => {
  equal(focusKind(formInput), 'field');
  equal(focusKind(formSelect), 'field');
  equal(focusKind(monaco), 'editor');
  equal(focusKind(dialogInput), 'editor');
  equal(focusKind(button), 'none');
  for (const id of ['edit.undo', 'edit.redo', 'edit.redoShift']) {
    const c = getCommand(id)!;
    ok(firesIn(c, 'field'), `${id} fires in a form field`);
    ok(!firesIn(c, 'editor'), `${id} leaves Monaco its own undo`);
    ok(firesIn(c, 'none'));
  }
  ok(firesIn(getCommand('experiment.save')!, 'editor'), 'Ctrl+S saves from anywhere');
  ok(!firesIn(getCommand('cell.moveUp')!, 'field'), 'Alt+↑ in a field stays the field\'s');
});

test('Ctrl+Z in a form field undoes the document\'s edit; in Monaco it is left to Monaco', () => {
  let handler: ((e: KeyboardEvent) => void) | null = null;
  (globalThis as { window?: unknown }).window = {
    addEventListener: (_t: string, f: (e: KeyboardEvent) => void) => { handler = f; },
    removeEventListener: () => { handler = null; },
  };
  setApi({ call: async () => { throw new Error('no host in this test'); }, on: () => () => {} } as unknown as WorkbenchApi);
  const off = installKeyboard();
  const doc: ExperimentInput = { format: 'transformer-workbench.experiment', version: 2, name: 't', cells: [newCell('model', [])] };
  useStore.getState().loadDocument(doc, null, null);
  useStore.getState().editDocument((d) => updateCell(d, 'model', (c) => ({ ...c, title: 'edited' })));
  const press = (target: unknown, key: string, mods: { shiftKey?: boolean } = {}) => {
    let prevented = false;
    handler!({ key, ctrlKey: true, metaKey: false, altKey: false, shiftKey: false, repeat: false, ...mods, target,
      preventDefault: () => { prevented = true; }, stopPropagation: () => {} } as unknown as KeyboardEvent);
    return prevented;
  };

  equal(press(monaco, 'z'), false, 'Monaco gets its Ctrl+Z');
  equal(useStore.getState().doc!.cells[0].title, 'edited');
  equal(press(formInput, 'z'), true, 'the input\'s own undo is not run');
  equal(useStore.getState().doc!.cells[0].title, undefined);
  equal(press(formSelect, 'Z', { shiftKey: true }), true);
  equal(useStore.getState().doc!.cells[0].title, 'edited', 'Ctrl+Shift+Z redoes');
  press(formSelect, 'z');
  press(formInput, 'y');
  equal(useStore.getState().doc!.cells[0].title, 'edited', 'Ctrl+Y redoes');
  off();
});
