import { type CompareRow, type Comparison, meanHeadJs } from '../../common/compare';
import { bytes } from '../lib/format';

const num = (v: number | null | undefined, digits = 4) => (v === null || v === undefined ? '—' : Number(v.toPrecision(digits)).toLocaleString('en'));
const ratio = (a: number | null, b: number | null) => (a && b ? `${(b / a).toFixed(2)}×` : '');

function latencyCell(r: CompareRow) {
  if (!r.latency.length) return '—';
  const vs = (l: CompareRow['latency'][number]) => (l.reference ? `, ${l.reference.ratio.toFixed(2)}× ${l.reference.of === 'base' ? 'base' : 'f32'}` : '');
  return r.latency.map((l) => `${num(l.msPerSequence, 3)} ms (${l.runtime === 'tfjs' ? 'TF.js' : l.runtime === 'onnx-int8' ? 'ORT int8' : 'ORT f32'}${vs(l)})`).join(' · ');
}

/**
 * The comparison, one row per model in the order measured: size (and how many times smaller than the base),
 * latency per sequence with where it was timed (and its ratio to what it was timed beside: below 1 is faster), validation loss and perplexity, KL to the base, top-1
 * agreement, the worst layer's weight error, mean head divergence, and what was not measured and why.
 * A variant's row picks it for the heatmap.
 */
export function ComparisonTable({ comparison, selected, onSelect }: { comparison: Comparison; selected?: string; onSelect: (runId: string) => void }) {
  const base = comparison.rows.find((r) => r.role === 'base');
  const pending = comparison.planned - comparison.rows.length;
  return (
    <table className="table compare-table" aria-label="comparison">
      <thead>
        <tr><th>run</th><th>method</th><th className="num">params</th><th className="num">on disk</th><th>latency / sequence</th><th className="num">val loss</th><th className="num">ppl</th>
          <th className="num">task acc.</th><th className="num">KL to base</th><th className="num">top-1 agree</th><th className="num">max layer err.</th><th className="num">head JS</th></tr>
      </thead>
      <tbody>
        {comparison.rows.map((r) => (
          <tr key={r.runId} data-run={r.runId} className={r.runId === selected ? 'selected' : undefined} onClick={() => r.role === 'variant' && onSelect(r.runId)}>
            <td className="mono">{r.runId}{r.role === 'base' ? ' (base)' : ''}</td>
            <td>{r.method}</td>
            {r.error ? <td colSpan={10} className="field-message">{r.error}</td> : (
              <>
                <td className="num mono" title={r.nonZeroParameters !== r.parameters ? `${num(r.nonZeroParameters, 6)} not zero` : undefined}>{num(r.parameters, 6)}{r.nonZeroParameters !== null && r.parameters && r.nonZeroParameters < r.parameters ? ` (${Math.round((100 * r.nonZeroParameters) / r.parameters)}% ≠ 0)` : ''}</td>
                <td className="num mono">{r.bytesOnDisk === null ? '—' : bytes(r.bytesOnDisk)} {r.role === 'variant' ? <span className="muted">{ratio(r.bytesOnDisk, base?.bytesOnDisk ?? null)}</span> : null}</td>
                <td className="mono small">{latencyCell(r)}</td>
                <td className="num mono">{num(r.valLoss)}</td>
                <td className="num mono">{num(r.perplexity)}</td>
                <td className="num mono" title={r.notes.find((n) => n.startsWith('task accuracy'))}>{r.taskAccuracy === null ? 'n/a' : num(r.taskAccuracy, 3)}</td>
                <td className="num mono">{num(r.klToBase, 3)}</td>
                <td className="num mono">{num(r.top1Agreement, 3)}</td>
                <td className="num mono">{r.weightError?.length ? num(Math.max(...r.weightError.map((e) => e.relError)), 3) : '—'}</td>
                <td className="num mono">{num(meanHeadJs(r), 3)}</td>
              </>
            )}
          </tr>
        ))}
        {pending > 0 && <tr className="muted"><td colSpan={12}>{pending} more to measure…</td></tr>}
      </tbody>
      <caption className="runs-caption">
        {comparison.rows.length} of {comparison.planned} models · {comparison.data.batches} held-out batches of {comparison.data.batchSize} × {comparison.data.seqLen} tokens ({comparison.data.objective})
        {comparison.backend ? ` · ${comparison.backend.name}, ${comparison.backend.threads} threads` : ''} · {new Date(comparison.createdAt).toLocaleString()}
      </caption>
    </table>
  );
}

/** The notes of each row, under the table: what was not measured and why, how layers were matched. */
export function ComparisonNotes({ comparison }: { comparison: Comparison }) {
  const notes = comparison.rows.flatMap((r) => r.notes.map((n) => `${r.runId}: ${n}`));
  if (!notes.length) return null;
  return <ul className="compare-notes muted small">{[...new Set(notes)].map((n) => <li key={n}>{n}</li>)}</ul>;
}
