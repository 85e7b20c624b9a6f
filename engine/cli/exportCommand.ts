/**
 * `workbench export RUN_DIR [--checkpoint best|last|step-N] --out DIR [--overwrite] [--json]`: a run's
 * checkpoint as a bundle that Hugging Face transformers, transformers.js and onnxruntime load
 * (engine/export/exportBundle.ts). Progress goes to stderr as lines (stdout as JSON objects with --json);
 * the last line says where the bundle is and how its verification went. Ctrl+C stops before the next stage
 * and leaves nothing under --out (exit 130).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../backends/select';
import { exportBundle, type ExportProgress } from '../export/exportBundle';
import type { CheckpointChoice } from '../runs/loadRunModel';
import { backendFlag, usage } from './args';
import { RUN_MODEL_FLAGS } from './openRun';
import { commandFailure, StopOnSignals } from './signals';

export const EXPORT_USAGE = `  workbench export RUN_DIR --out DIR [--checkpoint last|best|step-N] [--overwrite] [--backend NAME] [--json]
      write the checkpoint (default: last) as a bundle: model.safetensors and config.json under Hugging Face's
      GPT-2 / BERT names, tokenizer files, a model card, onnx/model.onnx and onnx/model_quantized.onnx (int8);
      the bundle is read back and its logits checked against the model before it appears under --out;
      a non-empty --out is refused unless --overwrite`;

export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { ...RUN_MODEL_FLAGS, out: { type: 'string' }, overwrite: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) usage(`export takes one run folder, not ${positionals.length}`);
  if (!values.out) usage('export needs --out DIR: the folder the bundle goes to (made if missing)');
  const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
  const onProgress = (p: ExportProgress) => (values.json ? print({ type: 'progress', ...p }) : process.stderr.write(`export: ${p.message}\n`));
  const stop = new StopOnSignals();
  const release = stop.install();
  try {
    await selectBackend(backendFlag(values.backend) ?? 'auto');
    const r = await exportBundle(path.resolve(positionals[0]), (values.checkpoint ?? 'last') as CheckpointChoice, values.out, { overwrite: values.overwrite, onProgress, signal: stop.signal });
    for (const note of r.notes) process.stderr.write(`workbench: ${note}\n`);
    if (values.json) {
      print({ type: 'summary', status: 'completed', out_dir: r.outDir, architecture: r.architecture, checkpoint: r.checkpoint, files: r.files, verification: r.report });
    } else {
      for (const k of r.report.checks) process.stderr.write(`export: ${k.file.padEnd(26)} relative error ${k.relError.toExponential(2)} (≤ ${k.tolerance}) ${k.ok ? 'ok' : 'FAILED'}\n`);
      process.stdout.write(`${r.architecture} bundle of ${r.checkpoint.name} written to ${r.outDir} (${r.files.length} files)\n`);
    }
    return 0;
  } catch (err) {
    return commandFailure(err, stop, values.json, print);
  } finally {
    release();
  }
}
