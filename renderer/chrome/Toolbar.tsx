import { formatKeybinding, getCommand, runCommand } from '../commands';
import { useDocMeta } from '../state/selectors';
import { useStore } from '../state/store';
import { EngineStatusPill } from './EngineStatusPill';

function ToolButton({ id, label, primary }: { id: string; label?: string; primary?: boolean }) {
  const command = getCommand(id)!;
  const enabled = useStore((s) => !command.enabled || command.enabled(s, s.selectedCellId));
  const key = formatKeybinding(command.keybinding);
  return (
    <button className={primary ? 'btn primary' : 'btn ghost'} disabled={!enabled} title={key ? `${command.label} (${key})` : command.label}
      onClick={() => void runCommand(id)}>{label ?? command.label}</button>
  );
}

/** The top bar: file commands, edit commands, the selected cell's run/stop, and the engine's state. */
export function Toolbar() {
  const { name, path, dirty, hasDoc } = useDocMeta();
  const busy = useStore((s) => s.busy);
  const saving = useStore((s) => s.banners.some((b) => b.id === 'doc-save-failed'));
  return (
    <header className="toolbar">
      <div className="brand" title="Transformer Workbench"><span className="logo" aria-hidden>◆</span> <span className="brand-name">Workbench</span></div>
      <div className="doc-title">
        {hasDoc ? <>
          <span className="doc-name" title={name ?? undefined} data-testid="doc-name">{name}</span>
          <span className={`save-state${dirty ? ' dirty' : ''}${saving ? ' failed' : ''}`} title={path ?? 'not saved yet'}>
            {saving ? 'not saved' : !path ? 'unsaved' : dirty ? 'edited' : 'saved'}
          </span>
        </> : <span className="muted">No experiment open</span>}
        {busy && <span className="muted small busy" title={busy}>{busy}</span>}
      </div>
      <nav className="tool-group">
        <ToolButton id="experiment.open" label="Open" />
        <ToolButton id="experiment.save" label="Save" />
        <ToolButton id="experiment.saveAs" label="Save as" />
        <span className="sep" />
        <ToolButton id="edit.undo" label="↶" />
        <ToolButton id="edit.redo" label="↷" />
        <span className="sep" />
        <ToolButton id="run.stop" label="■ Stop" />
        <ToolButton id="cell.run" label="▶ Run cell" primary />
      </nav>
      <EngineStatusPill />
    </header>
  );
}
