/**
 * `workbench export-torch EXPERIMENT [--cell ID] [--data FILE] --out DIR [--processes N] [--overwrite] [--json]`:
 * the experiment's pretrain cell as a PyTorch project for torchrun (engine/torchExport/exportTorch.ts).
 * Progress goes to stderr (stdout as JSON objects with --json); the last line says where the project is and
 * how to launch it. Ctrl+C stops it and leaves nothing under --out (exit 130).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EngineError, toSerializedError } from '../../common/errors';
import { pretrainCellsOf } from '../../common/experiment';
import { PretrainRunSpec } from '../../common/runConfig';
import { invalidConfig } from '../../common/zodIssues';
import { selectBackend } from '../backends/select';
import { exportTorchProject } from '../torchExport/exportTorch';
import { positiveInt, usage } from './args';
import { sourceForData } from './dataFlag';
import { readExperiment } from './main';
import { StopOnSignals } from './signals';

export const EXPORT_TORCH_USAGE = `  workbench export-torch EXPERIMENT_FILE --out DIR [--cell ID] [--data FILE] [--processes N] [--overwrite] [--json]
      the pretrain cell (default: the first) as a PyTorch project for a cluster: model.py, train.py (DDP, --zero1,
      --fsdp, --precision bf16|fp16|fp32), launch.sh (torchrun, N = NPROC_PER_NODE, default --processes or 1),
      README.md, the tokenized dataset, tokenizer.json and the workbench's initial weights; its runs come back
      as workbench run folders; a non-empty --out is refused unless --overwrite`;

export async function exportTorchCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { cell: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, processes: { type: 'string' }, overwrite: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) usage(`export-torch takes one experiment file, not ${positionals.length}`);
  if (!values.out) usage('export-torch needs --out DIR: the folder the PyTorch project goes to (made if missing)');
  const processes = positiveInt('--processes', values.processes);
  const file = path.resolve(positionals[0]);
  const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
  const onProgress = (message: string) => (values.json ? print({ type: 'progress', message }) : process.stderr.write(`export-torch: ${message}\n`));
  const stop = new StopOnSignals();
  const release = stop.install();
  try {
    const experiment = readExperiment(file);
    const cells = pretrainCellsOf(experiment, values.cell, file);
    const dataset = values.data === undefined ? cells.dataset.dataset : { ...cells.dataset.dataset, source: sourceForData(path.resolve(values.data), cells.dataset.dataset.source) };
    const parsed = PretrainRunSpec.safeParse({ name: experiment.name, dataset, tokenizer: cells.dataset.tokenizer, model: cells.model.model, pretrain: cells.pretrain.pretrain });
    if (!parsed.success) throw invalidConfig(parsed.error);
    await selectBackend('auto'); // the initial weights are drawn by the engine's seeded init
    const r = await exportTorchProject(parsed.data, values.out, { baseDir: path.dirname(file), cellId: cells.pretrain.id, overwrite: values.overwrite, processes, onProgress, signal: stop.signal });
    if (values.json) {
      print({ type: 'summary', status: 'completed', out_dir: r.outDir, arch: r.arch, objective: r.objective, parameters: r.parameters, files: r.files });
    } else {
      process.stdout.write(`PyTorch project of ${experiment.name} (${r.arch}, ${r.objective}, ${r.parameters} parameters) written to ${r.outDir}\n`
        + `  one process:  python3 ${path.join(r.outDir, 'train.py')} --out RUNS_DIR\n`
        + `  torchrun:     NPROC_PER_NODE=2 bash ${path.join(r.outDir, 'launch.sh')} --zero1 --out RUNS_DIR\n`);
    }
    return 0;
  } catch (err) {
    const cancelled = stop.received !== null && err instanceof EngineError && err.code === 'JOB_CANCELLED';
    if (values.json) print({ type: 'summary', status: cancelled ? 'cancelled' : 'failed', error: toSerializedError(err) });
    process.stderr.write(`workbench: ${(err as Error).message}\n`);
    return cancelled ? stop.exitCode : 1;
  } finally {
    release();
  }
}
