import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { CheckpointInfo, HeadHistory, InspectInput } from '../../common/inspect';
import { errorMessage, getApi } from '../api';
import { drawHead, headLayout, headPicture, sizeCanvas } from './draw';
import { HeadCurves } from './HeadCurves';
import { type HeadMap, type RunRef, fetchHead } from './inspectData';

export interface ReplayPanelProps {
  run: RunRef;
  input: InspectInput;
  layer: number;
  head: number;
  tokens: string[];
  causal: boolean;
  checkpoints: CheckpointInfo[];
  segment?: number[];
}

const PLAY_MS = 700;

/**
 * The attention time-lapse: a slider (and play) over the run's kept checkpoints that shows how the chosen
 * head's pattern forms, beside that head's statistics over training. A checkpoint not yet computed is
 * computed when the slider reaches it; "Compute all" does every one as a job, with progress and cancel.
 */
export function ReplayPanel({ run, input, layer, head, tokens, causal, checkpoints, segment }: ReplayPanelProps) {
  const [index, setIndex] = useState(checkpoints.length - 1);
  const [playing, setPlaying] = useState(false);
  const [frame, setFrame] = useState<HeadMap | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [history, setHistory] = useState<HeadHistory | null>(null);
  const [job, setJob] = useState<{ id: string; done: number; total: number } | null>(null);
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const ck = checkpoints[Math.min(index, checkpoints.length - 1)];

  useEffect(() => { setIndex(checkpoints.length - 1); }, [checkpoints]);
  useEffect(() => {
    let live = true;
    setHistory(null);
    getApi().call('inspect.headHistory', { ...run, layer, head }).then((h) => live && setHistory(h), (e) => live && setError(errorMessage(e)));
    return () => { live = false; };
  }, [run.experimentPath, run.runId, layer, head]);

  // While "compute all" runs it holds the engine: a checkpoint it has not reached yet is not an error but a
  // wait, asked for again as the job moves on (and once more when it ends).
  const replayed = job === null ? -1 : job.done;
  useEffect(() => {
    if (!ck) return;
    let live = true;
    fetchHead(run, ck.name, input, layer, head).then((f) => { if (live) { setFrame(f); setError(null); } }, (e) => {
      if (!live || (replayed >= 0 && (e as { code?: string }).code === 'BUSY')) return;
      setError(errorMessage(e));
      setPlaying(false);
    });
    return () => { live = false; };
  }, [ck?.name, run.experimentPath, run.runId, input.text, input.pair, layer, head, replayed]);

  useEffect(() => {
    if (!playing) return;
    const t = setInterval(() => setIndex((i) => {
      if (i + 1 >= checkpoints.length) { setPlaying(false); return i; }
      return i + 1;
    }), PLAY_MS);
    return () => clearInterval(t);
  }, [playing, checkpoints.length]);

  useEffect(() => {
    const off = [
      getApi().on('onInspectProgress', (p) => setJob((j) => (j && j.id === p.jobId ? { ...j, done: p.done, total: p.total } : j))),
      getApi().on('onInspectEnded', (p) => setJob((j) => {
        if (!j || j.id !== p.jobId) return j;
        if (p.outcome === 'failed') setError(p.error?.message ?? 'the replay failed');
        return null;
      })),
    ];
    return () => off.forEach((f) => f());
  }, []);

  const layout = useMemo(() => headLayout(tokens.length, 300), [tokens.length]);
  useLayoutEffect(() => {
    const c = canvas.current;
    if (!c || !frame || frame.T !== tokens.length) return;
    const ctx = sizeCanvas(c, layout.left + frame.T * layout.cell + 8, layout.top + frame.T * layout.cell + 8);
    drawHead(ctx, headPicture(frame.map, frame.T, causal).canvas, tokens, layout, [], segment);
  }, [frame, layout, tokens, causal, segment]);

  const computeAll = async () => {
    setError(null);
    try {
      const r = await getApi().call('inspect.replay', { ...run, ...input });
      setJob({ id: r.jobId, done: 0, total: r.checkpoints.length });
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  if (!checkpoints.length) return null;
  return (
    <div className="inspect-replay" data-testid="replay">
      <div>
        <div className="inspect-slider">
          <button className="btn small" aria-label={playing ? 'Pause' : 'Play'} onClick={() => { if (!playing && index >= checkpoints.length - 1) setIndex(0); setPlaying(!playing); }}>{playing ? '❚❚' : '▶'}</button>
          <input type="range" min={0} max={checkpoints.length - 1} value={index} aria-label="checkpoint"
            onChange={(e) => { setPlaying(false); setIndex(Number(e.target.value)); }} />
          <span className="mono" data-testid="replay-step">{ck ? `step ${ck.step}` : ''}</span>
        </div>
        <div className="muted" style={{ fontSize: 12 }}>
          layer {layer} head {head} at {ck?.name} ({index + 1} of {checkpoints.length}){frame && frame.checkpoint !== ck?.name ? ' — computing…' : ''}
        </div>
        <canvas ref={canvas} data-testid="replay-map" role="img" aria-label={`layer ${layer} head ${head} at ${ck?.name}`} />
        <div className="inspect-toolbar">
          {job
            ? <><progress max={job.total} value={job.done} aria-label="replay progress" /> <span className="muted">{job.done}/{job.total}</span>
              <button className="btn small" onClick={() => void getApi().call('inspect.cancelReplay', { jobId: job.id }).catch((e) => setError(errorMessage(e)))}>Cancel</button></>
            : <button className="btn small" onClick={() => void computeAll()} title="compute this text at every kept checkpoint now, so the slider plays without waits">Compute all checkpoints</button>}
        </div>
        {error && <div className="field-message" role="alert">{error}</div>}
      </div>
      <HeadCurves history={history} step={ck?.step ?? null} layer={layer} head={head} />
    </div>
  );
}
