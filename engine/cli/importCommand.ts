/** `workbench import DIR [--out RUN_DIR]`: a Hugging Face checkpoint folder as a run every other command opens. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EngineError } from '../../common/errors';
import { selectBackend } from '../backends/select';
import { engineLogits, makeProbe } from '../export/probe';
import { importHfCheckpoint } from '../import/hfCheckpoint';
import { loadRunModel } from '../runs/loadRunModel';
import { backendFlag, usage } from './args';

export const IMPORT_USAGE = `  workbench import DIR [--out RUN_DIR] [--name NAME] [--json] [--backend NAME]
      a Hugging Face GPT-2 or BERT checkpoint folder (config.json, model.safetensors, tokenizer.json) as a run
      folder (default ./NAME.run) that attention, sample, fill-mask and the notebook open; the last --json line names run_dir`;

export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { out: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean', default: false }, backend: { type: 'string' } },
  });
  if (positionals.length !== 1) usage(`import takes one checkpoint folder, not ${positionals.length}`);
  const src = path.resolve(positionals[0]);
  const out = path.resolve(values.out ?? `${path.basename(src)}.run`);
  const backend = await selectBackend(backendFlag(values.backend) ?? 'auto');
  const say = (line: string) => { if (!values.json) process.stderr.write(`${line}\n`); };
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel).once('SIGTERM', cancel);
  try {
    const r = await importHfCheckpoint(src, out, { backend, name: values.name, signal: controller.signal, onProgress: (phase) => say(`import: ${phase}…`) });
    // the proof that it opens: through the one door, the export's probe (full context, a padded row), finite logits
    const rm = await loadRunModel(r.runDir, 'last');
    try {
      const finite = engineLogits(rm.model, makeProbe(rm.model.config)).every(Number.isFinite);
      if (!finite) throw new EngineError('INVALID_CONFIG', `${r.runDir}: the imported model's logits on a probe are not finite; the checkpoint's weights are damaged`);
    } finally {
      rm.model.dispose();
    }
    for (const note of r.config.notes) say(`workbench: ${note}`);
    const summary = { run_dir: r.runDir, model_type: r.config.source.modelType, architecture: r.config.source.architecture, parameters: r.parameters, notes: r.config.notes };
    if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else process.stdout.write(`imported ${r.config.source.architecture} (${r.parameters.toLocaleString('en')} parameters) into ${r.runDir}\n`);
    return 0;
  } finally {
    process.off('SIGINT', cancel).off('SIGTERM', cancel);
  }
}
