import { useEffect, useState } from 'react';
import type { ClassificationReport } from '../../common/classificationReport';
import { runConfigOf, type FinetuneRunConfig } from '../../common/runConfig';
import { errorMessage, getApi } from '../api';
import { useStore } from '../state/store';
import { pct } from './classificationFormat';

const MIB = 2 ** 20;

/** How a fine-tune run trained: full, LoRA at its rank (and targets), or the from-scratch baseline. */
export function methodLabel(ft: FinetuneRunConfig['finetune']): string {
  if (ft.init === 'scratch') return 'scratch (baseline)';
  if (ft.method === 'full') return 'full';
  return `LoRA r ${ft.lora.r}${ft.lora.targetModules?.length ? ` (${ft.lora.targetModules.join(', ')})` : ''}`;
}

/**
 * The cell's runs side by side, the issue's comparison of full fine-tuning, LoRA and scratch on the same task:
 * test accuracy and macro-F1 at each run's last evaluation, the parameters it trains and their share, what it
 * keeps as float32 weights (LoRA: its adapters and head, PEFT's adapter file; otherwise the whole model) and its
 * wall time. Peak memory per variant needs a process of its own: `npm run bench:finetune` measures it.
 */
export function FinetuneRunsTable({ experimentPath, runIds, colors, version }: { experimentPath: string; runIds: string[]; colors: Record<string, string>; version: string }) {
  const history = useStore((s) => s.history);
  const [reports, setReports] = useState<Record<string, ClassificationReport | null | string>>({});
  useEffect(() => {
    let live = true;
    for (const runId of runIds) {
      getApi().call('runs.classificationReport', { experimentPath, runId })
        .then((r) => live && setReports((m) => ({ ...m, [runId]: r })), (e) => live && setReports((m) => ({ ...m, [runId]: errorMessage(e) })));
    }
    return () => { live = false; };
  }, [experimentPath, runIds.join('|'), version]);
  const rows = runIds.flatMap((runId) => {
    const h = history.find((x) => x.id === runId);
    const config = h?.ok ? runConfigOf(h.run) : null;
    return h?.ok && config?.task === 'finetune' ? [{ runId, run: h.run, ft: config.finetune }] : [];
  });
  if (rows.length < 2) return null;
  return (
    <table className="table finetune-runs" aria-label="fine-tune runs side by side" data-testid="finetune-runs">
      <thead>
        <tr><th>run</th><th>method</th><th className="num">test accuracy</th><th className="num">macro-F1</th><th className="num">trainable</th><th className="num">share</th><th className="num">weights kept</th><th className="num">wall time</th></tr>
      </thead>
      <tbody>
        {rows.map(({ runId, run, ft }) => {
          const r = reports[runId];
          const report = r && typeof r === 'object' ? r : null;
          const trainable = report?.trainableParams;
          const kept = report?.totalParams === undefined || trainable === undefined ? null : 4 * (ft.method === 'lora' && ft.init !== 'scratch' ? trainable : report.totalParams);
          const seconds = (Date.parse(run.updated) - Date.parse(run.created)) / 1000;
          return (
            <tr key={runId} title={typeof r === 'string' ? `could not read its evaluation: ${r}` : undefined}>
              <td className="mono"><span className="swatch" style={{ background: colors[runId] }} />{runId}</td>
              <td>{methodLabel(ft)}</td>
              <td className="num mono">{report ? pct(report.accuracy) : '—'}</td>
              <td className="num mono">{report ? pct(report.macroF1) : '—'}</td>
              <td className="num mono">{trainable?.toLocaleString('en') ?? '—'}</td>
              <td className="num mono">{trainable !== undefined && report?.totalParams ? `${((100 * trainable) / report.totalParams).toFixed(2)}%` : '—'}</td>
              <td className="num mono">{kept === null ? '—' : `${(kept / MIB).toFixed(2)} MiB`}</td>
              <td className="num mono">{run.status === 'running' || !Number.isFinite(seconds) ? '—' : `${seconds.toFixed(0)} s`}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
