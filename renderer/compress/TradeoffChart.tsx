import type { LatencyRuntime } from '../../common/compare';
import { bytes } from '../lib/format';
import { linearScale, logScale, type TradeoffPoint } from './compareData';

const W = 380, H = 240, M = { left: 52, right: 16, top: 14, bottom: 40 };
const METHOD_COLORS: Record<string, string> = { base: '#222', int8: '#1f77b4', qat: '#17becf', distill: '#2ca02c', 'prune-heads': '#d62728', 'prune-magnitude': '#ff7f0e', finetune: '#9467bd' };
const colorOf = (method: string) => METHOD_COLORS[method] ?? '#8c564b';
const RUNTIME_LABEL: Record<LatencyRuntime, string> = { tfjs: 'TF.js', 'onnx-float32': 'ORT float32', 'onnx-int8': 'ORT int8' };

/** A mark per runtime: a circle for TF.js, a square for ONNX Runtime float32, a diamond for int8. */
function Mark({ x, y, runtime, color }: { x: number; y: number; runtime?: LatencyRuntime; color: string }) {
  if (runtime === 'onnx-float32') return <rect x={x - 4.5} y={y - 4.5} width={9} height={9} fill={color} />;
  if (runtime === 'onnx-int8') return <path d={`M${x},${y - 6}L${x + 6},${y}L${x},${y + 6}L${x - 6},${y}Z`} fill={color} />;
  return <circle cx={x} cy={y} r={5} fill={color} />;
}

/**
 * Validation loss against size on disk or latency per sequence, log-scaled on x, one mark per model (and per
 * runtime it was timed in, each its own shape: figures of two runtimes are never one point).
 */
export function TradeoffChart({ points, axis, title }: { points: TradeoffPoint[]; axis: 'size' | 'latency'; title: string }) {
  if (!points.length) return <div className="muted compare-chart-empty">{title}: nothing measured yet</div>;
  const x = logScale(points.map((p) => p.x), M.left, W - M.right);
  const y = linearScale(points.map((p) => p.y), H - M.bottom, M.top);
  const fmtX = (v: number) => (axis === 'size' ? bytes(v) : `${Number(v.toPrecision(2))} ms`);
  const runtimes = [...new Set(points.map((p) => p.runtime).filter((r): r is LatencyRuntime => r !== undefined))];
  return (
    <figure className="compare-chart">
      <svg width={W} height={H} role="img" aria-label={title}>
        <line x1={M.left} x2={W - M.right} y1={H - M.bottom} y2={H - M.bottom} stroke="#999" />
        <line x1={M.left} x2={M.left} y1={M.top} y2={H - M.bottom} stroke="#999" />
        {x.ticks.map((t) => <g key={`x${t}`}><line x1={x.at(t)} x2={x.at(t)} y1={H - M.bottom} y2={H - M.bottom + 4} stroke="#999" /><text x={x.at(t)} y={H - M.bottom + 15} fontSize={10} textAnchor="middle">{fmtX(t)}</text></g>)}
        {y.ticks.map((t) => <g key={`y${t}`}><line x1={M.left - 4} x2={M.left} y1={y.at(t)} y2={y.at(t)} stroke="#999" /><text x={M.left - 6} y={y.at(t) + 3} fontSize={10} textAnchor="end">{t}</text></g>)}
        <text x={(M.left + W - M.right) / 2} y={H - 6} fontSize={11} textAnchor="middle">{axis === 'size' ? 'bytes on disk (log)' : 'latency per sequence (log)'}</text>
        <text x={12} y={(M.top + H - M.bottom) / 2} fontSize={11} textAnchor="middle" transform={`rotate(-90 12 ${(M.top + H - M.bottom) / 2})`}>validation loss</text>
        {points.map((p) => (
          <g key={`${p.runId}-${p.runtime ?? ''}`} data-run={p.runId}>
            <title>{`${p.runId} (${p.method}${p.runtime ? `, ${RUNTIME_LABEL[p.runtime]}` : ''}): loss ${p.y.toFixed(4)}, ${fmtX(p.x)}`}</title>
            <Mark x={x.at(p.x)} y={y.at(p.y)} runtime={p.runtime} color={colorOf(p.role === 'base' ? 'base' : p.method)} />
          </g>
        ))}
      </svg>
      <figcaption className="muted small">{title}{runtimes.length > 1 ? ` · ${runtimes.map((r) => `${r === 'tfjs' ? '●' : r === 'onnx-float32' ? '■' : '◆'} ${RUNTIME_LABEL[r]}`).join(' ')}` : ''}</figcaption>
    </figure>
  );
}
