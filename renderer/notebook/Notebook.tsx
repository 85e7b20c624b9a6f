import { type KeyboardEvent, useState } from 'react';
import { runCommand } from '../commands';
import { type CellKind, KIND_LABEL } from '../lib/cellConfig';
import { useCellIds, useDocMeta } from '../state/selectors';
import { Cell } from './Cell';
import { Welcome } from './Welcome';

const ADD_KINDS: CellKind[] = ['notes', 'dataset', 'model', 'pretrain', 'inspect', 'compress', 'finetune'];

/**
 * The buttons between cells that add one below. A toolbar with one tab stop (the arrow keys move within
 * it), so Tab goes from cell to cell past one button, not four; it shows while hovered or focused.
 */
function AddCellBar({ after, index }: { after: string | null; index: number }) {
  const [active, setActive] = useState(0);
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const to = e.key === 'ArrowRight' ? active + 1 : e.key === 'ArrowLeft' ? active - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? ADD_KINDS.length - 1 : null;
    if (to === null || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    const next = (to + ADD_KINDS.length) % ADD_KINDS.length;
    setActive(next);
    (e.currentTarget.children[next] as HTMLElement | undefined)?.focus();
  };
  return (
    <div className="add-bar" role="toolbar" aria-label={after ? `Add a cell below cell ${index + 1}` : 'Add a cell'} onKeyDown={onKeyDown}>
      {ADD_KINDS.map((k, i) => (
        <button key={k} className="add-btn" tabIndex={i === active ? 0 : -1} onFocus={() => setActive(i)}
          onClick={() => void runCommand(`cell.add.${k}`, { cellId: after })}>+ {KIND_LABEL[k]}</button>
      ))}
    </div>
  );
}

export function Notebook() {
  const { hasDoc } = useDocMeta();
  const ids = useCellIds();
  if (!hasDoc) return <Welcome />;
  return (
    <div className="notebook">
      {ids.map((id, i) => (
        <div key={id} className="cell-slot">
          <Cell id={id} index={i} />
          <AddCellBar after={id} index={i} />
        </div>
      ))}
      {ids.length === 0 && <AddCellBar after={null} index={0} />}
    </div>
  );
}
