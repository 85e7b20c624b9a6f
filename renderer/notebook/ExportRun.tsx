import { fileName } from '../lib/format';
import { exportRun } from '../session/exportRun';
import { useStore } from '../state/store';

/** The Export button of a run in the runs table: its last checkpoint as a bundle other tools load. */
export function ExportButton({ runId }: { runId: string }) {
  const state = useStore((s) => s.exporting[runId]);
  if (state?.phase === 'exporting') return <button className="btn small" disabled>Exporting…</button>;
  return (
    <button className="btn small" title="a bundle other tools load: safetensors, config, tokenizer, model card, ONNX (float32 and int8), verified before it is written"
      onClick={(e) => { e.stopPropagation(); void exportRun(runId); }}>Export</button>
  );
}

const kib = (bytes: number) => `${(bytes / 1024).toLocaleString('en', { maximumFractionDigits: 1 })} KiB`;

/** Under an exported run: where the bundle went, its files, and how each compared with the in-app model; or why it was not written. */
export function ExportDetails({ runId, colSpan }: { runId: string; colSpan: number }) {
  const state = useStore((s) => s.exporting[runId]);
  const setExport = useStore((s) => s.setExport);
  if (!state || state.phase === 'exporting') return null;
  const close = <button className="link" onClick={() => setExport(runId, null)}>close</button>;
  if (state.phase === 'failed') {
    const exists = /is not empty/.test(state.message);
    return (
      <tr className="serve-details"><td colSpan={colSpan}>
        <div className="inline-error" role="alert">The bundle was not written: {state.message}</div>
        {exists && <button className="btn small" onClick={() => void exportRun(runId, true)}>Replace the old bundle</button>} {close}
      </td></tr>
    );
  }
  const r = state.result;
  return (
    <tr className="serve-details"><td colSpan={colSpan}>
      <div aria-label={`bundle of ${runId}`}>
        <div>Exported checkpoint {r.checkpoint} as <b>{r.architecture}</b> to <span className="mono" title={r.outDir}>{fileName(r.outDir)}/</span> {close}</div>
        <table className="bundle-table">
          <thead><tr><th>file read back</th><th>run by</th><th className="num">error vs in-app</th><th className="num">tolerance</th><th /></tr></thead>
          <tbody>
            {r.checks.map((c) => (
              <tr key={c.file}><td className="mono">{c.file}</td><td>{c.runtime}</td><td className="num mono">{c.relError.toExponential(1)}</td><td className="num mono">{c.tolerance}</td>
                <td><span className={`badge ${c.ok ? 'status-completed' : 'status-failed'}`}>{c.ok ? 'pass' : 'fail'}</span></td></tr>
            ))}
          </tbody>
        </table>
        <div className="muted small">{r.files.map((f) => `${f.file} (${kib(f.bytes)})`).join(' · ')}</div>
        {r.notes.map((n) => <div key={n} className="muted small">{n}</div>)}
      </div>
    </td></tr>
  );
}
