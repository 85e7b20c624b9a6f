import { lazy, type ReactNode, Suspense, useState } from 'react';
import { type CellInput, type ConfigKind } from '../lib/cellConfig';
import { useStore } from '../state/store';
import { useCellConfig } from './useCellConfig';

const ConfigEditor = lazy(() => import('../editor/ConfigEditor'));

/**
 * The config half of a cell: the form (common fields) or the full JSON in Monaco, one store value behind
 * both, and the problems that keep the cell from running listed under them.
 */
export function ConfigPanel({ cell, kind, form, side }: { cell: CellInput; kind: ConfigKind; form: ReactNode; side?: ReactNode }) {
  const [tab, setTab] = useState<'form' | 'json'>('form');
  const { config, issues, replace } = useCellConfig(cell);
  const jsonError = useStore((s) => s.jsonErrors[cell.id]);
  const setJsonError = useStore((s) => s.setJsonError);

  return (
    <div className="config-panel">
      <div className="tabs" role="tablist">
        <button role="tab" aria-selected={tab === 'form'} className={tab === 'form' ? 'tab active' : 'tab'} onClick={() => setTab('form')}>Form</button>
        <button role="tab" aria-selected={tab === 'json'} className={tab === 'json' ? 'tab active' : 'tab'} onClick={() => setTab('json')}>JSON</button>
        {(issues.length > 0 || jsonError) && <span className="tab-badge error">{jsonError ? 'JSON error' : `${issues.length} problem${issues.length > 1 ? 's' : ''}`}</span>}
      </div>
      <div className={side ? 'config-body with-side' : 'config-body'}>
        <div className="config-main">
          {tab === 'form' ? form : (
            <Suspense fallback={<div className="config-editor loading">Loading editor…</div>}>
              <ConfigEditor cellId={cell.id} kind={kind} value={config} issues={issues} onChange={(v) => replace(v)} onJsonError={(m) => setJsonError(cell.id, m)} />
            </Suspense>
          )}
        </div>
        {side && <div className="config-side">{side}</div>}
      </div>
      {(jsonError || issues.length > 0) && (
        <ul className="issues" aria-label="problems">
          {jsonError && <li><code>JSON</code> {jsonError} — the cell keeps its last valid config until the text parses.</li>}
          {issues.map((i, n) => <li key={n}><code>{i.path.join('.') || '(config)'}</code> {i.message}</li>)}
        </ul>
      )}
    </div>
  );
}
