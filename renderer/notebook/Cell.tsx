import { memo } from 'react';
import { getCommand, runCommand, formatKeybinding } from '../commands';
import { KIND_LABEL } from '../lib/cellConfig';
import { updateCell } from '../state/documentSlice';
import { activeJobOf, cannotRun, isCellInvalid, pretrainStale, useCell } from '../state/selectors';
import { useStore } from '../state/store';
import { InspectCell } from '../inspect/InspectCell';
import { CompressCell } from '../compress/CompressCell';
import { FinetuneCell } from '../finetune/FinetuneCell';
import { DatasetCell } from './DatasetCell';
import { ModelCell } from './ModelCell';
import { NotesCell } from './NotesCell';
import { PretrainCell } from './PretrainCell';

/** A cell's toolbar button: a registered command, acting on this cell. */
function CommandButton({ id, cellId, icon, className = 'icon-btn' }: { id: string; cellId: string; icon: string; className?: string }) {
  const command = getCommand(id)!;
  const enabled = useStore((s) => !command.enabled || command.enabled(s, cellId));
  const key = formatKeybinding(command.keybinding);
  return (
    <button className={className} disabled={!enabled} title={key ? `${command.label} (${key})` : command.label} aria-label={command.label}
      onClick={(e) => { e.stopPropagation(); void runCommand(id, { cellId }); }}>{icon}</button>
  );
}

const RUN_LABEL = { notes: 'Edit', dataset: 'Preview', model: 'Check', pretrain: 'Run', inspect: 'Show', compress: 'Run', finetune: 'Run' } as const;

export const Cell = memo(function Cell({ id, index }: { id: string; index: number }) {
  const cell = useCell(id)!;
  const selected = useStore((s) => s.selectedCellId === id);
  const collapsed = useStore((s) => Boolean(s.collapsed[id]));
  const running = useStore((s) => Boolean(activeJobOf(s, id)));
  const stale = useStore((s) => pretrainStale(s, id));
  const blocked = useStore((s) => cannotRun(s, id));
  const invalid = useStore((s) => isCellInvalid(s, id));
  const selectCell = useStore((s) => s.selectCell);
  const editDocument = useStore((s) => s.editDocument);

  return (
    <section
      className={`cell cell-${cell.kind}${selected ? ' selected' : ''}${collapsed ? ' collapsed' : ''}`}
      data-cell-id={id}
      // focusable by script (not by Tab): focus lands on the cell after its neighbour is deleted
      tabIndex={-1}
      onMouseDown={() => !selected && selectCell(id)}
      onFocusCapture={() => !selected && selectCell(id)}
      aria-label={`${KIND_LABEL[cell.kind]} cell ${id}`}
    >
      <header className="cell-head">
        <button className="icon-btn collapse" onClick={() => void runCommand('cell.toggleCollapse', { cellId: id })} title={collapsed ? 'Expand' : 'Collapse'} aria-expanded={!collapsed}>{collapsed ? '▸' : '▾'}</button>
        <span className="cell-index mono">[{index + 1}]</span>
        <span className={`kind kind-${cell.kind}`}>{KIND_LABEL[cell.kind]}</span>
        <input className="cell-title" value={cell.title ?? ''} placeholder={cell.id}
          onChange={(e) => editDocument((doc) => updateCell(doc, id, (c) => ({ ...c, title: e.target.value || undefined })), `${id}:title`)} />
        {invalid && <span className="badge error">invalid</span>}
        {stale && <span className="badge warning" title="the configs changed since its newest run">stale</span>}
        {running && <span className="badge status-running">running</span>}
        <span className="spacer" />
        <div className="cell-tools">
          <CommandButton id="cell.moveUp" cellId={id} icon="↑" />
          <CommandButton id="cell.moveDown" cellId={id} icon="↓" />
          <CommandButton id="cell.delete" cellId={id} icon="✕" />
          {cell.kind !== 'model' && cell.kind !== 'inspect' && cell.kind !== 'compress' && (
            <button className="btn small primary run-btn" disabled={Boolean(blocked) || running} title={blocked ?? `${RUN_LABEL[cell.kind]} (Shift+Enter)`}
              onClick={(e) => { e.stopPropagation(); void runCommand('cell.run', { cellId: id }); }}>▶ {RUN_LABEL[cell.kind]}</button>
          )}
        </div>
      </header>
      {!collapsed && (
        <div className="cell-body">
          {cell.kind === 'notes' && <NotesCell cell={cell} />}
          {cell.kind === 'dataset' && <DatasetCell cell={cell} />}
          {cell.kind === 'model' && <ModelCell cell={cell} />}
          {cell.kind === 'pretrain' && <PretrainCell cell={cell} />}
          {cell.kind === 'inspect' && <InspectCell cell={cell} />}
          {cell.kind === 'compress' && <CompressCell cell={cell} />}
          {cell.kind === 'finetune' && <FinetuneCell cell={cell} />}
        </div>
      )}
    </section>
  );
});
