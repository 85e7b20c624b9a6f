import { useEffect, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { comparisonCsv, type Comparison } from '../../common/compare';
import { compressSettingsOf } from '../../common/compressCell';
import { COMPRESS_METHODS } from '../../common/compressConfig';
import type { InspectCheckpoints } from '../../common/inspect';
import { runConfigOf } from '../../common/runConfig';
import { errorMessage, getApi } from '../api';
import { RunDashboard } from '../dashboards';
import { download } from '../inspect/exportView';
import type { CellInput } from '../lib/cellConfig';
import { fileName } from '../lib/format';
import { ConfigPanel } from '../notebook/ConfigPanel';
import { RunCheckpointFields, type RunChoice } from '../notebook/RunCheckpointFields';
import { refreshHistory } from '../session/runs';
import { JobStatus } from '../notebook/PretrainCell';
import { updateCell } from '../state/documentSlice';
import { activeJobOf } from '../state/selectors';
import { useStore } from '../state/store';
import { tradeoffPoints, variantsOfBase } from './compareData';
import { ComparisonNotes, ComparisonTable } from './ComparisonTable';
import { deriveVariant } from './deriveVariant';
import { HeadHeatmap } from './HeadHeatmap';
import { SettingsForm } from './SettingsForm';
import { TradeoffChart } from './TradeoffChart';
import { useComparison } from './useComparison';
import './compress.css';

type CompressCellT = Extract<CellInput, { kind: 'compress' }>;
type Fields = Omit<CompressCellT, 'id' | 'kind' | 'title' | 'collapsed'>;

const METHOD_LABEL = { int8: 'int8 (post-training)', qat: 'quantization-aware training', distill: 'distillation', prune: 'pruning' } as const;

/**
 * The compress cell: a base run and checkpoint of the experiment, a method with its settings (the form is
 * the method's schema), Run to make a variant (a derived run with its own dashboard, progress and stop), the
 * base's variants, and Compare: every variant measured against the base in one run, as a table whose rows
 * come in as variants finish, charts of quality against size and latency, a per-head divergence heatmap,
 * and the table exported as CSV or JSON. Choices live in the cell (undo, reopening); results in run folders.
 */
export function CompressCell({ cell }: { cell: CompressCellT }) {
  const path = useStore((s) => s.path);
  const history = useStore((s) => s.history);
  // a base is any run with weights that is not an int8 variant (which has no float weights to start from)
  const bases = useStore(useShallow((s) => s.history.flatMap((r) => {
    if (!r.ok) return [];
    const c = runConfigOf(r.run);
    return c?.task === 'compress' && c.compress.method === 'int8' ? [] : [`${r.id}\u0000${r.run.status}\u0000${r.run.step}`];
  })));
  const job = useStore((s) => activeJobOf(s, cell.id));
  const editDocument = useStore((s) => s.editDocument);
  const set = (patch: Partial<Fields>, key: string) => editDocument((doc) => updateCell(doc, cell.id, (c) => ({ ...c, ...patch })), `${cell.id}:${key}`);

  const method = cell.method ?? 'int8';
  const baseRunId = cell.baseRunId;
  const run = useMemo(() => (path && baseRunId ? { experimentPath: path, runId: baseRunId } : null), [path, baseRunId]);
  const [checkpoints, setCheckpoints] = useState<InspectCheckpoints | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const { comparison, job: compareJob, error: compareError, start, cancel } = useComparison(run);
  useEffect(() => {
    setCheckpoints(null);
    if (!run) return;
    let live = true;
    getApi().call('inspect.checkpoints', run).then((c) => live && setCheckpoints(c), () => undefined);
    return () => { live = false; };
  }, [run]);

  const variants = variantsOfBase(history, baseRunId);
  const settingsCheck = compressSettingsOf(cell);
  const selected = cell.selectedVariant && comparison?.rows.some((r) => r.runId === cell.selectedVariant) ? cell.selectedVariant : comparison?.rows.find((r) => r.heads)?.runId;
  const selectedRow = comparison?.rows.find((r) => r.runId === selected);
  const canRun = Boolean(path && baseRunId && settingsCheck.ok && !job);

  const exportAs = async (format: 'csv' | 'json', c: Comparison) => {
    setExportError(null);
    const name = `${c.baseRunId}.comparison.${format}`;
    download(new Blob([format === 'csv' ? comparisonCsv(c) : JSON.stringify(c, null, 2)], { type: format === 'csv' ? 'text/csv' : 'application/json' }), name);
    if (!run) return;
    try {
      const r = await getApi().call('compare.export', { ...run, format });
      setExported(r.path);
    } catch (e) {
      setExportError(errorMessage(e));
    }
  };

  const baseIds = bases.map((b) => b.split('\u0000'));
  return (
    <div data-testid="compress-cell">
      <div className="inspect-controls">
        <RunCheckpointFields label="Base run" runs={baseIds as RunChoice[]} runId={baseRunId} onRun={(id) => set({ baseRunId: id, checkpoint: 'last', selectedVariant: undefined }, 'base')}
          checkpoint={cell.checkpoint ?? 'last'} onCheckpoint={(c) => set({ checkpoint: c }, 'checkpoint')} checkpoints={checkpoints} />
        <label className="field">
          <span className="field-label">Method</span>
          <select className="input" aria-label="Method" value={method} onChange={(e) => set({ method: e.target.value as Fields['method'] }, 'method')}>
            {COMPRESS_METHODS.map((m) => <option key={m} value={m}>{METHOD_LABEL[m]}</option>)}
          </select>
        </label>
        <button className="btn primary" disabled={!canRun} title={!path ? 'save the experiment first' : !baseRunId ? 'pick a base run' : !settingsCheck.ok ? settingsCheck.problem : job ? 'a variant is being made' : `make a ${method} variant of ${baseRunId}`}
          onClick={() => void deriveVariant(cell)}>▶ Run</button>
        <div className="muted" style={{ fontSize: 12, paddingBottom: 6 }}>{!path ? 'Save the experiment: variants are runs beside the file.' : !baseIds.length ? 'No runs yet: pretrain one, then compress it here.' : ''}</div>
      </div>
      <ConfigPanel cell={cell} kind="compress"
        form={<SettingsForm method={method} settings={(cell.settings?.[method] ?? {}) as Record<string, unknown>} onChange={(s) => set({ settings: { ...cell.settings, [method]: s } }, `settings.${method}`)} />} />
      {job && <JobStatus job={job} />}
      {job && job.status !== 'starting' && <RunDashboard runIds={[job.runId]} runLabels={{ [job.runId]: `${method} variant` }} />}

      <h4 className="compress-heading">Variants of {baseRunId ?? '—'}{' '}
        {/* variants made elsewhere (the command line, another window) appear once the runs are listed again */}
        <button className="btn small ghost" aria-label="Refresh variants" title="list the experiment's runs again" onClick={() => void refreshHistory()}>↻</button>
      </h4>
      {variants.length === 0 ? <p className="muted">No variants yet: pick a method and press Run.</p> : (
        <table className="table" aria-label="variants">
          <thead><tr><th>run</th><th>method</th><th>status</th><th className="num">step</th><th>from</th></tr></thead>
          <tbody>{variants.map((v) => <tr key={v.runId} data-run={v.runId}><td className="mono">{v.runId}</td><td>{v.method}</td><td><span className={`badge status-${v.status}`}>{v.status}</span></td><td className="num mono">{v.step}</td><td className="mono">{v.checkpoint}</td></tr>)}</tbody>
        </table>
      )}
      <div className="compare-actions">
        <button className="btn" disabled={!run || compareJob !== null} onClick={() => void start({ ...(cell.checkpoint && cell.checkpoint !== 'last' ? { checkpoint: cell.checkpoint } : {}) })}
          title="measure the base and every variant on the base's held-out data in one run">Compare</button>
        {compareJob && (
          <>
            <div className="progress compare-progress" data-testid="compare-progress"><div className="progress-bar" style={{ width: `${compareJob.total ? Math.round((1000 * compareJob.done) / compareJob.total) / 10 : 0}%` }} /></div>
            <span className="muted small">{compareJob.done}/{compareJob.total || '?'} · {compareJob.message}</span>
            <button className="btn small danger" onClick={() => void cancel()}>Cancel</button>
          </>
        )}
        {comparison && (
          <>
            <span className="spacer" />
            <button className="btn small" onClick={() => void exportAs('csv', comparison)}>Export CSV</button>
            <button className="btn small" onClick={() => void exportAs('json', comparison)}>Export JSON</button>
          </>
        )}
      </div>
      {compareError && <div className="field-message" role="alert">{compareError}</div>}
      {exportError && <div className="field-message" role="alert">{exportError}</div>}
      {exported && <div className="muted small" data-testid="compare-exported">written to {fileName(exported)}</div>}
      {comparison && (
        <div className="compare-results">
          <ComparisonTable comparison={comparison} selected={selected} onSelect={(id) => set({ selectedVariant: id }, 'selectedVariant')} />
          <ComparisonNotes comparison={comparison} />
          <div className="compare-charts">
            <TradeoffChart points={tradeoffPoints(comparison, 'size')} axis="size" title="quality against size" />
            <TradeoffChart points={tradeoffPoints(comparison, 'latency')} axis="latency" title="quality against latency" />
            {selectedRow?.heads && <HeadHeatmap heads={selectedRow.heads} runId={selectedRow.runId} />}
          </div>
        </div>
      )}
    </div>
  );
}
