import { useMemo } from 'react';
import { pretrainInputs } from '../../common/experiment';
import { type CellInput, type ConfigIssue, configOf, pretrainModelIssues, validateCell, withConfig } from '../lib/cellConfig';
import { stableStringify } from '../lib/hash';
import { updateCell } from '../state/documentSlice';
import { useStore } from '../state/store';
import { getIn, setIn } from './fields';

type Path = (string | number)[];

/** A cell's config for its form: read, write one field, replace the whole, and its issues by field. */
export function useCellConfig(cell: CellInput) {
  const editDocument = useStore((s) => s.editDocument);
  const config = configOf(cell);
  // a pretrain cell is also checked against the model it trains (the store's own object: a stable reference)
  const model = useStore((s) => (cell.kind === 'pretrain' && s.doc ? pretrainInputs(s.doc.cells, cell.id).model?.model : undefined));
  const issues = useMemo<ConfigIssue[]>(() => (cell.kind === 'pretrain' && model ? [...validateCell(cell), ...pretrainModelIssues(cell.pretrain, model)] : validateCell(cell)), [cell, model]);

  const replace = (next: unknown, key = `${cell.id}:json`) => {
    if (stableStringify(next) === stableStringify(configOf(useStore.getState().doc?.cells.find((c) => c.id === cell.id) ?? cell))) return;
    editDocument((doc) => updateCell(doc, cell.id, (c) => withConfig(c, next)), key);
  };
  const set = (path: Path, value: unknown) => {
    editDocument((doc) => updateCell(doc, cell.id, (c) => withConfig(c, setIn(configOf(c), path, value))), `${cell.id}:${path.join('.')}`);
  };
  const get = (path: Path) => getIn(config, path);
  /** the first issue at exactly this field, or within it when `within` */
  const error = (path: Path, within = false): string | undefined => {
    const p = path.join('.');
    const hit = issues.find((i: ConfigIssue) => { const q = i.path.join('.'); return q === p || (within && q.startsWith(`${p}.`)); });
    return hit?.message;
  };
  return { config, issues, get, set, replace, error };
}
