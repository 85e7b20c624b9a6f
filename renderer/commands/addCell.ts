import { type CellKind, KIND_LABEL, newCell } from '../lib/cellConfig';
import { register } from './register';
import type { Command } from './types';

/** One command per kind of cell: inserted below the cell acted on (or at the end), then selected. */
function addCellCommand(kind: CellKind): Command {
  return register({
    id: `cell.add.${kind}`,
    label: `Add ${KIND_LABEL[kind].toLowerCase()} cell`,
    enabled: (s) => s.doc !== null,
    perform(ctx) {
      const s = ctx.getState();
      const cell = newCell(kind, s.doc!.cells);
      s.editDocument((doc) => {
        const at = doc.cells.findIndex((c) => c.id === ctx.cellId);
        const cells = [...doc.cells];
        cells.splice(at < 0 ? cells.length : at + 1, 0, cell);
        return { ...doc, cells };
      });
      s.selectCell(cell.id);
    },
  });
}

export const addNotesCell = addCellCommand('notes');
export const addDatasetCell = addCellCommand('dataset');
export const addModelCell = addCellCommand('model');
export const addPretrainCell = addCellCommand('pretrain');
export const addInspectCell = addCellCommand('inspect');
export const addCompressCell = addCellCommand('compress');
export const addFinetuneCell = addCellCommand('finetune');
