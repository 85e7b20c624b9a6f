import { useEffect, useState } from 'react';
import type { ClassificationReport } from '../../common/classificationReport';
import { errorMessage, getApi } from '../api';
import { confusionShade, pct } from './classificationFormat';

/**
 * A fine-tuned classifier's test figures after an evaluation (the run's eval/classification.json, read
 * through the host): accuracy and macro-F1, per-class precision / recall / F1 with support, the confusion
 * matrix shaded by each true class's share, and the class balance of the split.
 */
export function ClassificationView({ experimentPath, runId, version }: { experimentPath: string; runId: string; version: string }) {
  const [report, setReport] = useState<ClassificationReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setError(null);
    getApi().call('runs.classificationReport', { experimentPath, runId }).then((r) => live && setReport(r), (e) => live && setError(errorMessage(e)));
    return () => { live = false; };
  }, [experimentPath, runId, version]);
  if (error) return <p className="error-text">Could not read the evaluation of {runId}: {error}</p>;
  if (!report) return <p className="muted">No evaluation of {runId} yet: its figures come at its first evaluation.</p>;
  const short = report.labels.map((l, i) => `${i + 1}`);
  return (
    <div className="classification" data-testid="classification-report">
      <p>
        <strong>Test accuracy <span className="mono" data-testid="test-accuracy">{pct(report.accuracy)}</span></strong>
        {' · '}macro-F1 <span className="mono">{pct(report.macroF1)}</span>
        <span className="muted"> at step {report.step}, on {report.examples.toLocaleString('en')} of {report.testExamples.toLocaleString('en')} test examples ({report.balance.testUnits} held-out {report.balance.unit}s, none of them in training)</span>
      </p>
      <div className="classification-grid">
        <table className="table per-class" aria-label="per-class figures">
          <thead><tr><th>#</th><th>class</th><th className="num">precision</th><th className="num">recall</th><th className="num">F1</th><th className="num">test</th><th className="num">train</th></tr></thead>
          <tbody>
            {report.perClass.map((c, i) => (
              <tr key={c.label}><td className="muted">{i + 1}</td><td>{c.label}</td><td className="num mono">{pct(c.precision)}</td><td className="num mono">{pct(c.recall)}</td><td className="num mono">{pct(c.f1)}</td>
                <td className="num mono">{c.support}</td><td className="num mono">{report.balance.train[i]}</td></tr>
            ))}
          </tbody>
        </table>
        <table className="confusion" aria-label="confusion matrix" data-testid="confusion-matrix">
          <caption>confusion matrix: rows are the true class, columns the predicted one (numbers as in the table)</caption>
          <thead><tr><th />{short.map((s) => <th key={s} scope="col">{s}</th>)}</tr></thead>
          <tbody>
            {report.confusion.map((row, t) => {
              const total = row.reduce((a, b) => a + b, 0);
              return (
                <tr key={t}>
                  <th scope="row" title={report.labels[t]}>{short[t]}</th>
                  {row.map((n, p) => <td key={p} title={`${report.labels[t]} → ${report.labels[p]}: ${n}`} className={t === p ? 'diag' : undefined} style={{ background: confusionShade(n, total, t === p) }}>{n || ''}</td>)}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
