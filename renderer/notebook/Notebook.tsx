import { runCommand } from '../commands';
import { type CellKind, KIND_LABEL } from '../lib/cellConfig';
import { useCellIds, useDocMeta } from '../state/selectors';
import { Cell } from './Cell';
import { Welcome } from './Welcome';

function AddCellBar({ after }: { after: string | null }) {
  const kinds: CellKind[] = ['notes', 'dataset', 'model', 'pretrain'];
  return (
    <div className="add-bar">
      {kinds.map((k) => (
        <button key={k} className="add-btn" onClick={() => void runCommand(`cell.add.${k}`, { cellId: after })}>+ {KIND_LABEL[k]}</button>
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
          <AddCellBar after={id} />
        </div>
      ))}
      {ids.length === 0 && <AddCellBar after={null} />}
    </div>
  );
}
