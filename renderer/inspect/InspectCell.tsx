import { useEffect, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { InspectCheckpoints, InspectOverview } from '../../common/inspect';
import { modelOfRun, runConfigOf } from '../../common/runConfig';
import { errorMessage, getApi } from '../api';
import type { CellInput } from '../lib/cellConfig';
import { RunCheckpointFields, type RunChoice } from '../notebook/RunCheckpointFields';
import { updateCell } from '../state/documentSlice';
import { useStore } from '../state/store';
import type { HeadRef } from './attentionMath';
import { summedAttention } from './attentionMath';
import { exportJson, exportPng, rowsOf } from './exportView';
import { HeadView } from './HeadView';
import { type HeadMap, fetchHead, inputOf } from './inspectData';
import { LinesView } from './LinesView';
import { ModelView } from './ModelView';
import { FillMaskPanel } from './FillMaskPanel';
import { SamplePanel } from './SamplePanel';
import { ReplayPanel } from './ReplayPanel';
import { HEAD_STATISTICS, STAT_LABEL, type StatName } from './stats';
import './inspect.css';

type Inspect = Extract<CellInput, { kind: 'inspect' }>;
type Fields = Omit<Inspect, 'id' | 'kind' | 'title' | 'collapsed'>;

const VIEWS = [['model', 'Model'], ['head', 'Head'], ['lines', 'Lines']] as const;

/** The width the views may take: the cell body's, followed as the window resizes. */
function useWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [w, setW] = useState(800);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setW(el.clientWidth));
    ro.observe(el);
    setW(el.clientWidth);
    return () => ro.disconnect();
  }, [ref]);
  return w;
}

/**
 * The inspect cell: a run of this experiment and a checkpoint, a text (and for BERT a second segment), and
 * its attention as a model view (every head), a head view and a lines view, a checkpoint replay beside the
 * head's statistics over training, export of what is shown, and the sampling panels of the run's model.
 * What the user chooses is kept in the cell (so undo and reopening bring it back); maps stay in the run folder.
 */
export function InspectCell({ cell }: { cell: Inspect }) {
  const path = useStore((s) => s.path);
  // an imported model (workbench import) is listed as such: it has no training of its own
  const runs = useStore(useShallow((s) => s.history.flatMap((r) => (r.ok ? [`${r.id}\u0000${runConfigOf(r.run)?.task === 'import' ? 'imported' : r.run.status}\u0000${r.run.step}`] : []))));
  // the run's architecture before any map is shown: which sampling panel it gets, whether a pair is offered
  const runArch = useStore((s) => {
    const r = s.history.find((h) => h.ok && h.id === cell.runId);
    return r?.ok ? modelOfRun(runConfigOf(r.run))?.arch : undefined;
  });
  const editDocument = useStore((s) => s.editDocument);
  const set = (patch: Partial<Fields>, key: string) => editDocument((doc) => updateCell(doc, cell.id, (c) => ({ ...c, ...patch })), `${cell.id}:${key}`);

  const [checkpoints, setCheckpoints] = useState<InspectCheckpoints | null>(null);
  const [overview, setOverview] = useState<InspectOverview | null>(null);
  const [headMap, setHeadMap] = useState<HeadMap | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const body = useRef<HTMLDivElement | null>(null);
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const width = useWidth(body);

  const runId = cell.runId;
  const run = useMemo(() => (path && runId ? { experimentPath: path, runId } : null), [path, runId]);
  const text = cell.text ?? '';
  const view = cell.view ?? 'model';
  const statistic = (cell.statistic ?? 'entropy') as StatName;
  const layer = cell.layer ?? 0, head = cell.head ?? 0;
  const [overviewT, setOverviewT] = useState(0);
  // a selection kept from a longer text names positions this one lacks
  const queries = useMemo(() => (cell.queries ?? []).filter((q) => q < (overviewT || Infinity)), [cell.queries, overviewT]);

  useEffect(() => {
    // another run: the maps on show are the previous run's, not this one's
    setCheckpoints(null);
    setOverview(null);
    setOverviewT(0);
    setError(null);
    if (!run) return;
    let live = true;
    getApi().call('inspect.checkpoints', run).then((c) => live && setCheckpoints(c), (e) => live && setError(errorMessage(e)));
    return () => { live = false; };
  }, [run]);

  const show = async () => {
    if (!run) return;
    setBusy(true);
    setError(null);
    try {
      const o = await getApi().call('inspect.open', { ...run, checkpoint: cell.checkpoint ?? 'last', ...inputOf(text, cell.pair) });
      setOverview(o);
      setOverviewT(o.T);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  // the open head's full map, for the head and lines views and the replay
  useEffect(() => {
    setHeadMap(null);
    if (!run || !overview || view === 'model' || layer >= overview.layers || head >= overview.heads) return;
    let live = true;
    fetchHead(run, overview.checkpoint, inputOf(overview.text, overview.pair), layer, head).then((m) => live && setHeadMap(m), (e) => live && setError(errorMessage(e)));
    return () => { live = false; };
  }, [run, overview, view, layer, head]);

  const stale = overview !== null && (overview.text !== text || (overview.pair ?? '') !== (cell.pair ?? ''));
  const open = (h: HeadRef) => set({ layer: h.layer, head: h.head, view: 'head', queries: [] }, 'head');
  const base = `${cell.id}-${overview?.checkpoint ?? 'none'}-${view}${view === 'model' ? '' : `-L${layer}H${head}`}`;
  const exportNumbers = () => {
    if (!overview) return;
    const common = { runId, checkpoint: overview.checkpoint, step: overview.step, tokens: overview.tokens, tokenTypeIds: overview.tokenTypeIds };
    if (view === 'model') exportJson({ ...common, view, statistic, stats: overview.stats }, `${base}.json`);
    else if (headMap) exportJson({ ...common, view, layer, head, queries, summed: Array.from(summedAttention(headMap.map, headMap.T, queries)), attention: rowsOf(headMap.map, headMap.T) }, `${base}.json`);
  };

  const runIds = runs.map((r) => r.split('\u0000'));
  const segment = overview?.tokenTypeIds;
  const arch = overview?.arch ?? runArch;
  return (
    <div ref={body} data-testid="inspect-cell">
      <div className="inspect-controls">
        <RunCheckpointFields label="Run" runs={runIds as RunChoice[]} runId={runId} onRun={(id) => set({ runId: id, checkpoint: 'last' }, 'run')}
          checkpoint={cell.checkpoint ?? 'last'} onCheckpoint={(c) => set({ checkpoint: c }, 'checkpoint')} checkpoints={checkpoints} />
        <div className="muted" style={{ fontSize: 12, paddingBottom: 6 }}>
          {!path ? 'Save the experiment: its runs live beside the file.' : !runIds.length ? 'No runs yet: run a pretrain cell, then inspect its model here.' : checkpoints ? `${checkpoints.checkpoints.length} checkpoints kept` : runId ? 'reading checkpoints…' : ''}
        </div>
      </div>
      <div className="inspect-texts">
        <label className="field">
          <span className="field-label">Text</span>
          {/* several lines: a generated sample keeps its line breaks; Enter shows, Shift+Enter breaks the line */}
          <textarea className="input" aria-label="Text" rows={Math.min(6, Math.max(1, text.split('\n').length))} value={text} placeholder="A sentence to look at"
            onChange={(e) => set({ text: e.target.value }, 'text')} onKeyDown={(e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); void show(); } }} />
        </label>
        <button className="btn primary" disabled={!run || !text || busy} onClick={() => void show()}>{busy ? 'Computing…' : stale ? '▶ Show again' : '▶ Show'}</button>
        {(arch === 'bert' || cell.pair !== undefined) && (
          <label className="field">
            <span className="field-label">Second sentence (BERT pair, optional)</span>
            <input className="input" aria-label="Second sentence" value={cell.pair ?? ''} onChange={(e) => set({ pair: e.target.value || undefined }, 'pair')} />
          </label>
        )}
      </div>
      {error && <div className="field-message" role="alert" style={{ marginTop: 6 }}>{error}</div>}
      {overview && run && (
        <>
          <div className="inspect-toolbar">
            <div className="tabs" role="tablist" style={{ marginBottom: 0 }}>
              {VIEWS.map(([v, label]) => (
                <button key={v} role="tab" aria-selected={view === v} className={`tab${view === v ? ' active' : ''}`} onClick={() => set({ view: v }, 'view')}>{label}</button>
              ))}
            </div>
            {view === 'model' ? (
              <>
                <label className="field-label">colour by{' '}
                  <select className="input" style={{ width: 'auto' }} aria-label="Statistic" value={statistic} onChange={(e) => set({ statistic: e.target.value as StatName }, 'statistic')}>
                    {HEAD_STATISTICS.map((s) => <option key={s} value={s} disabled={!overview.stats[s]}>{STAT_LABEL[s]}</option>)}
                  </select>
                </label>
                <label className="checkbox"><input type="checkbox" checked={cell.sorted ?? false} onChange={(e) => set({ sorted: e.target.checked }, 'sorted')} /> sort by it</label>
              </>
            ) : (
              <span className="mono" data-testid="head-title">layer {layer} head {head}{queries.length ? ` · ${queries.length} selected` : ''}
                {queries.length > 0 && <button className="btn small ghost" onClick={() => set({ queries: [] }, 'queries')}>clear</button>}
              </span>
            )}
            <span className="spacer" />
            <span className="muted mono" data-testid="inspect-where">{overview.checkpoint} · step {overview.step} · {overview.T} tokens{stale ? ' · text changed' : ''}</span>
            <button className="btn small" onClick={() => canvasRef.current && void exportPng(canvasRef.current, `${base}.png`)}>PNG</button>
            <button className="btn small" onClick={exportNumbers}>JSON</button>
          </div>
          <div className="inspect-view">
            {view === 'model' && <ModelView overview={overview} statistic={statistic} sorted={cell.sorted ?? false} selected={{ layer, head }} onOpen={open} width={width} canvasRef={canvasRef} />}
            {view !== 'model' && !headMap && <div className="muted">loading layer {layer} head {head}…</div>}
            {view === 'head' && headMap && <HeadView tokens={overview.tokens} map={headMap.map} T={headMap.T} causal={overview.causal} queries={queries} onQueries={(q) => set({ queries: q }, 'queries')} segment={segment} size={Math.min(720, width - 120)} canvasRef={canvasRef} />}
            {view === 'lines' && headMap && <LinesView tokens={overview.tokens} map={headMap.map} T={headMap.T} causal={overview.causal} queries={queries} onQueries={(q) => set({ queries: q }, 'queries')} segment={segment} size={width - 40} canvasRef={canvasRef} />}
          </div>
          {checkpoints && (
            <ReplayPanel run={run} input={inputOf(overview.text, overview.pair)} layer={layer} head={head} tokens={overview.tokens} causal={overview.causal} checkpoints={checkpoints.checkpoints} segment={segment} />
          )}
        </>
      )}
      {run && (
        <div className="inspect-panels" data-testid="model-panels">
          {/* the run's model writes (GPT) or fills masks (BERT); its text can come back to the views above */}
          {arch !== 'bert'
            ? <SamplePanel experimentPath={run.experimentPath} runId={run.runId} checkpoint={cell.checkpoint ?? 'last'} onSendToAttention={(t) => set({ text: t }, 'text')} />
            : <FillMaskPanel experimentPath={run.experimentPath} runId={run.runId} checkpoint={cell.checkpoint ?? 'last'} onSendToAttention={(t) => set({ text: t }, 'text')} />}
        </div>
      )}
    </div>
  );
}
