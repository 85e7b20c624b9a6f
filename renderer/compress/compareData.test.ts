import { deepEqual, equal, ok, test } from '../dashboards/testing';
import { COMPARISON_FORMAT, comparisonCsv, type CompareRow, type Comparison } from '../../common/compare';
import { divergenceColor, linearScale, logScale, tradeoffPoints, variantsOfBase } from './compareData';

const row = (o: Partial<CompareRow>): CompareRow => ({
runId: 'r', runDir: '/x/r', name: 'r', role: 'variant', method: 'int8', checkpoint: 'step-1', step: 1, parameters: 10, nonZeroParameters: 10, bytesOnDisk: 100,
latency: [], valLoss: 2, perplexity: Math.exp(2), taskAccuracy: null, klToBase: 0.1, top1Agreement: 0.9, weightError: null, heads: null, notes: [], ...o,
});
const comparison = (rows: CompareRow[]): Comparison => ({
format: COMPARISON_FORMAT, version: 1, baseRunDir: '/x/base', baseRunId: 'base', createdAt: '2026-01-01T00:00:00Z', complete: true, planned: rows.length,
backend: null, data: { objective: 'causal-lm', batches: 1, batchSize: 1, seqLen: 8, sourceRunDir: '/x/base' }, limits: {}, rows,
});
const run = (id: string, config: unknown) => ({ ok: true as const, id, run: { format: 'transformer-workbench.run', version: 1, id, name: id, created: '', updated: '', status: 'completed', config, step: 5, tokensSeen: 0, bestValLoss: null, lastCheckpoint: null, seed: 0, backend: {} } as never });

test('lists the runs derived from the base, and only those', () => {
  const model = { arch: 'gpt', vocabSize: 10, contextLength: 8, dModel: 8, nHeads: 2, nLayers: 1 };
  const base = (runId: string) => ({ runDir: `/x/${runId}`, runId, checkpoint: 'step-00000006', step: 6 });
  const history = [
    run('b-int8', { task: 'compress', base: base('base'), model, compress: { method: 'int8' } }),
    run('a-distill', { task: 'compress', base: base('base'), model, compress: { method: 'distill' } }),
    run('other', { task: 'compress', base: base('elsewhere'), model, compress: { method: 'int8' } }),
    { ok: false as const, id: 'broken', problem: 'unreadable' },
  ];
  deepEqual(variantsOfBase(history as never, 'base').map((v) => [v.runId, v.method]), [['a-distill', 'distill'], ['b-int8', 'int8']]);
  deepEqual(variantsOfBase(history as never, undefined), []);
});

test('puts one latency point per runtime, and leaves out models without a loss', () => {
  const c = comparison([
    row({ runId: 'base', role: 'base', latency: [{ runtime: 'tfjs', msPerSequence: 3, sequencesPerSecond: 333, batch: 1, seqLen: 8, threads: 1, reps: 2 }] }),
    row({ runId: 'q', latency: [{ runtime: 'onnx-float32', msPerSequence: 1, sequencesPerSecond: 1000, batch: 1, seqLen: 8, threads: 1, reps: 2 }, { runtime: 'onnx-int8', msPerSequence: 2, sequencesPerSecond: 500, batch: 1, seqLen: 8, threads: 1, reps: 2 }] }),
    row({ runId: 'broken', valLoss: null, error: 'no checkpoint' }),
  ]);
  deepEqual(tradeoffPoints(c, 'latency').map((p) => [p.runId, p.runtime, p.x]), [['base', 'tfjs', 3], ['q', 'onnx-float32', 1], ['q', 'onnx-int8', 2]]);
  deepEqual(tradeoffPoints(c, 'size').map((p) => p.runId), ['base', 'q']);
});

test('scales values onto the drawing, ticks inside the domain', () => {
  const s = linearScale([2, 4], 0, 100);
  ok(s.at(2) > 0 && s.at(4) < 100 && Math.abs(s.at(3) - 50) < 1e-9);
  ok(s.ticks.length >= 2 && s.ticks.every((t) => s.at(t) >= 0 && s.at(t) <= 100));
  const l = logScale([100, 10_000], 0, 100);
  ok(Math.abs(l.at(1000) - 50) < 1e-9, 'a log scale puts the geometric mean in the middle');
  ok(l.ticks.includes(1000) && l.ticks.every((t) => l.at(t) >= 0 && l.at(t) <= 100));
  ok(linearScale([5, 5], 0, 10).at(5) === 5, 'a flat domain maps to the middle');
  deepEqual(logScale([2.48, 3.92], 0, 100).ticks, [2.5, 3.9], 'a narrow domain between round numbers is labelled at its ends');
  deepEqual(logScale([1.001, 1.07], 0, 100).ticks, [1, 1.07], 'to as many figures as keep the ends apart and inside');
});

test('colours divergence from white to red relative to the largest', () => {
  equal(divergenceColor(0, 0.2), 'rgb(255,255,255)');
  equal(divergenceColor(0.2, 0.2), 'rgb(165,15,21)');
  equal(divergenceColor(0.5, 0.2), 'rgb(165,15,21)');
});

test('writes CSV a spreadsheet reads: one line per model, quoted where needed', () => {
  const csv = comparisonCsv(comparison([row({ runId: 'q', notes: ['kept "embeddings", head'] })])).split('\r\n');
  equal(csv.length, 3);
  ok(/^q,r,variant,int8,step-1,1,10,10,100,/.test(csv[1]), csv[1]);
  ok(/,"kept ""embeddings"", head"$/.test(csv[1]), csv[1]);
});
