/**
 * The inspect views' bench page: the model view of 12 layers × 12 heads at 128 tokens, and the head and
 * lines views of one head at 512 tokens, each driven once per frame (hover, select, sort, replay a new
 * checkpoint) while requestAnimationFrame intervals are recorded. scripts/bench-inspect.mjs builds,
 * serves and drives it through `window.bench`.
 */
import { useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { flushSync } from 'react-dom';
import { HeadView } from '../HeadView';
import { LinesView } from '../LinesView';
import { ModelView } from '../ModelView';
import { syntheticHead, syntheticOverview } from './synthetic';

const MODEL = syntheticOverview(12, 12, 128);
const LONG = 512;
const LONG_TOKENS = Array.from({ length: LONG }, (_, i) => `t${i}`);
const REPLAY = Array.from({ length: 8 }, (_, i) => syntheticHead(LONG, 1000 + i));

interface State { view: 'model' | 'head' | 'lines'; sorted: boolean; map: number; queries: number[] }
let setState: (s: Partial<State>) => void = () => undefined;

function Bench() {
  const [s, set] = useState<State>({ view: 'model', sorted: false, map: 0, queries: [] });
  setState = (p) => flushSync(() => set((old) => ({ ...old, ...p })));
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const common = { tokens: LONG_TOKENS, map: REPLAY[s.map], T: LONG, causal: true, queries: s.queries, onQueries: (q: number[]) => setState({ queries: q }), size: 720, canvasRef };
  return s.view === 'model'
    ? <ModelView overview={MODEL} statistic="entropy" sorted={s.sorted} selected={null} onOpen={() => undefined} width={1200} canvasRef={canvasRef} />
    : s.view === 'head' ? <HeadView {...common} /> : <LinesView {...common} />;
}

/** frame intervals, and `work`: the milliseconds each act took, React's render and the canvas drawing included (layout effects run inside flushSync) */
export interface Frames { frames: number; p50: number; p95: number; max: number; over33: number; workP50: number; workP95: number; workMax: number }

/** Runs `act(i)` once per animation frame for `ms` and returns the frame intervals' distribution. */
function perFrame(ms: number, act: (i: number) => void): Promise<Frames> {
  return new Promise((resolve) => {
    const gaps: number[] = [];
    const work: number[] = [];
    let last = 0, i = 0, t0 = 0;
    const frame = (t: number) => {
      if (!t0) t0 = t; else gaps.push(t - last);
      last = t;
      if (t - t0 >= ms) {
        const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
        resolve({ frames: gaps.length, p50: q(gaps, 0.5), p95: q(gaps, 0.95), max: q(gaps, 1), over33: gaps.filter((g) => g > 33.4).length / gaps.length, workP50: q(work, 0.5), workP95: q(work, 0.95), workMax: q(work, 1) });
        return;
      }
      const w0 = performance.now();
      act(i++);
      work.push(performance.now() - w0);
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}

function move(canvas: HTMLCanvasElement, x: number, y: number, type = 'mousemove', shiftKey = false) {
  const r = canvas.getBoundingClientRect();
  canvas.dispatchEvent(new MouseEvent(type, { bubbles: true, clientX: r.left + x, clientY: r.top + y, shiftKey }));
}
const canvas = () => document.querySelector('canvas')!;

const bench = {
  ready: false,
  /** nothing to do: what this machine's Chromium gives, to read the others against */
  idle: (ms: number) => perFrame(ms, () => undefined),
  /** model view: the pointer sweeps the 144 thumbnails (a redraw per new head) and the order flips between layer order and sorted every 10 frames */
  model: (ms: number) => { setState({ view: 'model', sorted: false }); return perFrame(ms, (i) => { if (i % 10 === 9) setState({ sorted: !((i / 10) % 2) }); const c = canvas(); move(c, (i * 37) % c.clientWidth, (i * 11) % c.clientHeight); }); },
  /** head view at 512 tokens: hover read-outs across the map */
  headHover: (ms: number) => { setState({ view: 'head', queries: [], map: 0 }); return perFrame(ms, (i) => move(canvas(), 8 + ((i * 13) % 512), 8 + ((i * 7) % 512))); },
  /** head view at 512 tokens: a query added to the selection every frame (summed attention and a full redraw) */
  headSelect: (ms: number) => { setState({ view: 'head', queries: [], map: 0 }); return perFrame(ms, (i) => move(canvas(), 100, 8 + ((i * 29) % 512), 'click', true)); },
  /** the checkpoint slider at 512 tokens: a new checkpoint's map every frame */
  replay: (ms: number) => { setState({ view: 'head', queries: [] }); return perFrame(ms, (i) => setState({ map: i % REPLAY.length })); },
  /** lines view at 512 tokens: the pointer follows a query token down the left column */
  lines: (ms: number) => { setState({ view: 'lines', queries: [], map: 0 }); return perFrame(ms, (i) => move(canvas(), 40, 8 + ((i * 10) % (LONG * 10)))); },
};
(window as unknown as { bench: typeof bench }).bench = bench;

createRoot(document.getElementById('root')!).render(<Bench />);
setTimeout(() => { bench.ready = true; }, 300);
