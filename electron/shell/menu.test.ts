import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMenuActions, menuTemplate, toElectronTemplate, withExperimentExtension, type MenuItemData } from './menu';

const find = (items: MenuItemData[], label: string): MenuItemData => {
  for (const i of items) {
    if (i.label === label) return i;
    if (i.submenu) { try { return find(i.submenu, label); } catch { /* keep looking */ } }
  }
  throw new Error(`no menu item ${label}`);
};

test('the menu has File (New, Open…, Open Recent, Save, Save As…), Run, View and Help', () => {
  const t = menuTemplate({ recent: ['/x/a.experiment.json'], platform: 'linux' });
  assert.deepEqual(t.map((m) => m.label), ['&File', '&Edit', '&Run', '&View', '&Help']);
  const file = t[0].submenu!.filter((i) => i.label).map((i) => i.label);
  assert.deepEqual(file, ['New', 'Open…', 'Open Recent', 'Save', 'Save As…']);
  assert.deepEqual(find(t, 'New').action, { kind: 'command', command: 'experiment.new' });
  assert.deepEqual(find(t, 'Open…').action, { kind: 'openDialog' });
  assert.deepEqual(find(t, 'Save As…').action, { kind: 'saveDialog' });
  assert.deepEqual(find(t, '/x/a.experiment.json').action, { kind: 'command', command: 'experiment.open', args: ['/x/a.experiment.json'] });
  assert.deepEqual(find(t, 'Run Cell').action, { kind: 'command', command: 'cell.run' });
  assert.equal(find(t, 'Save').registerAccelerator, false, 'the renderer binds Ctrl+S itself');
  assert.equal(find(menuTemplate({ recent: [], platform: 'linux' }), 'No recent experiments').enabled, false);
  assert.equal(menuTemplate({ recent: [], platform: 'darwin' })[0].submenu![0].role, 'about');
});

test('menu clicks run the action; dialogs turn into commands with the chosen path', async () => {
  const sent: [string, string[] | undefined][] = [];
  let chosen = 0;
  const dialog = {
    showOpenDialog: async () => ({ canceled: false, filePaths: ['/d/b.experiment.json'] }),
    showSaveDialog: async () => ({ canceled: false, filePath: '/d/c' }),
  };
  const perform = createMenuActions({ dialog, sendCommand: (c, a) => sent.push([c, a]), onFileChosen: () => chosen++ });
  const electron = toElectronTemplate(menuTemplate({ recent: [], platform: 'linux' }), (a) => void perform(a));
  const fileMenu = electron[0].submenu as { label?: string; click?: () => void }[];
  fileMenu.find((i) => i.label === 'New')!.click!();
  await perform({ kind: 'openDialog' });
  await perform({ kind: 'saveDialog' });
  assert.deepEqual(sent, [['experiment.new', undefined], ['experiment.open', ['/d/b.experiment.json']], ['experiment.saveAs', ['/d/c.experiment.json']]]);
  assert.equal(chosen, 2);
  const cancelled = createMenuActions({
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showSaveDialog: async () => ({ canceled: true }) },
    sendCommand: (c, a) => sent.push([c, a]),
  });
  await cancelled({ kind: 'openDialog' });
  await cancelled({ kind: 'saveDialog' });
  assert.equal(sent.length, 3, 'a cancelled dialog sends nothing');
  assert.equal(withExperimentExtension('/a/b.json'), '/a/b.experiment.json');
  assert.equal(withExperimentExtension('/a/b.experiment.json'), '/a/b.experiment.json');
});
