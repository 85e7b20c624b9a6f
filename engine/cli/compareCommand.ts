/**
 * `workbench compare BASE_RUN_DIR [VARIANT_RUN_DIR...] [--json]`: the base and its variants measured in one
 * run (engine/compare/measure.ts) — by default every run beside the base derived from it. A line per model as
 * it is measured (stdout; JSON objects with --json), then where the files are. Ctrl+C stops between batches,
 * the rows so far in the files (exit 130).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { COMPARE_LIMITS, type CompareRow } from '../../common/compare';
import { selectBackend } from '../backends/select';
import { measureComparison } from '../compare/measure';
import { backendFlag, positiveInt, usage } from './args';
import { commandFailure, StopOnSignals } from './signals';

export const COMPARE_USAGE = `  workbench compare BASE_RUN_DIR [VARIANT_RUN_DIR...] [--checkpoint last|best|step-N] [--eval-batches N] [--batch-size N] [--backend NAME] [--json]
      measure a run and its variants (default: every run beside it derived from it) on its held-out data in one run:
      parameters, bytes on disk, latency (TF.js; ONNX Runtime int8 against float32 for int8 variants), validation
      loss and perplexity, KL to the base and top-1 agreement, per-layer weight error, per-head attention divergence;
      written to BASE_RUN_DIR/compare/comparison.json and comparison.csv`;

const fmt = (v: number | null | undefined, digits = 4) => (v === null || v === undefined ? 'n/a' : Number(v.toPrecision(digits)).toString());

function rowLine(r: CompareRow): string {
  if (r.error) return `${r.runId}: not measured — ${r.error}`;
  const lat = r.latency.map((l) => `${l.runtime} ${fmt(l.msPerSequence, 3)} ms/seq`).join(', ');
  return `${r.runId} (${r.method}): ${r.parameters ?? 'n/a'} params, ${r.bytesOnDisk ?? 'n/a'} bytes, val loss ${fmt(r.valLoss)}, ppl ${fmt(r.perplexity)}, `
    + `KL ${fmt(r.klToBase)}, top-1 ${fmt(r.top1Agreement)}, ${lat || 'latency n/a'}${r.notes.length ? `\n    ${r.notes.join('\n    ')}` : ''}`;
}

export async function compareCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { checkpoint: { type: 'string' }, 'eval-batches': { type: 'string' }, 'batch-size': { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length < 1) usage('compare needs the base run folder, then the variants (default: every run derived from it beside it)');
  const evalBatches = positiveInt('--eval-batches', values['eval-batches']);
  const batchSize = positiveInt('--batch-size', values['batch-size']);
  if (evalBatches && evalBatches > COMPARE_LIMITS.maxEvalBatches) usage(`--eval-batches is at most ${COMPARE_LIMITS.maxEvalBatches}`);
  if (batchSize && batchSize > COMPARE_LIMITS.maxBatchSize) usage(`--batch-size is at most ${COMPARE_LIMITS.maxBatchSize}`);
  const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
  const stop = new StopOnSignals();
  const release = stop.install();
  try {
    const backend = await selectBackend(backendFlag(values.backend) ?? 'auto');
    const variants = positionals.slice(1).map((d) => path.resolve(d));
    const out = await measureComparison({
      baseRunDir: path.resolve(positionals[0]), baseCheckpoint: values.checkpoint, ...(variants.length ? { variantRunDirs: variants } : {}),
      evalBatches, batchSize, backend, threads: backend.threads, signal: stop.signal,
      onStage: (message) => (values.json ? print({ type: 'progress', message }) : process.stderr.write(`compare: ${message}\n`)),
      onRow: (row, done, total) => (values.json ? print({ type: 'row', done, total, row }) : process.stdout.write(`${rowLine(row)}\n`)),
    });
    const failed = out.comparison.rows.filter((r) => r.error).length;
    if (values.json) print({ type: 'summary', status: 'completed', json_file: out.jsonFile, csv_file: out.csvFile, rows: out.comparison.rows.length, failed, backend: backend.name, threads: backend.threads });
    else process.stdout.write(`comparison of ${out.comparison.rows.length} models on ${backend.name} (${backend.threads} threads) written to ${out.jsonFile} and ${path.basename(out.csvFile)}\n`);
    return failed ? 1 : 0;
  } catch (err) {
    return commandFailure(err, stop, values.json, print);
  } finally {
    release();
  }
}
