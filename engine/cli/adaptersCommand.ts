/**
 * `workbench adapters BASE_RUN_DIR [--merge NAME --out DIR [--overwrite]] [--json]`: the LoRA adapters
 * trained over a base run (engine/finetune/lora/adapterList.ts); with --merge, the base with adapter NAME
 * merged, exported as a bundle with the adapter's PEFT files in its adapter/ folder.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../backends/select';
import { exportBundle } from '../export/exportBundle';
import { listAdapters } from '../finetune/lora/adapterList';
import { backendFlag, usage } from './args';

export const ADAPTERS_USAGE = `  workbench adapters BASE_RUN_DIR [--merge NAME --out DIR [--overwrite]] [--backend NAME] [--json]
      list the LoRA adapters trained over a run (the LoRA fine-tuning runs beside it whose base it is);
      --merge NAME exports the base with adapter NAME merged into its weights, plus the adapter's
      adapter_model.safetensors and adapter_config.json (PEFT's layout) in DIR/adapter/`;

export async function adaptersCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { merge: { type: 'string' }, out: { type: 'string' }, overwrite: { type: 'boolean', default: false }, backend: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) usage(`adapters takes one base run folder, not ${positionals.length}`);
  const adapters = await listAdapters(positionals[0]);
  if (values.merge === undefined) {
    if (values.out) usage('--out goes with --merge NAME: the adapter to merge');
    if (values.json) process.stdout.write(`${JSON.stringify({ base: path.resolve(positionals[0]), adapters })}\n`);
    else if (!adapters.length) process.stdout.write(`no LoRA runs over ${path.resolve(positionals[0])} in its runs folder; start one with workbench finetune --method lora\n`);
    else for (const a of adapters) process.stdout.write(`${a.name}  r=${a.r} alpha=${a.alpha} targets=${a.targets.join(',')}  ${a.data}  step ${a.step} ${a.status}${a.bestValLoss === null ? '' : `  best val loss ${a.bestValLoss.toFixed(4)}`}  "${a.runName}"\n`);
    return 0;
  }
  const chosen = adapters.find((a) => a.name === values.merge);
  if (!chosen) usage(`--merge ${values.merge}: no such adapter over this run; ${adapters.length ? `it has ${adapters.map((a) => a.name).join(', ')}` : 'it has none'}`);
  if (!values.out) usage('--merge needs --out DIR: the folder the merged bundle goes to');
  await selectBackend(backendFlag(values.backend) ?? 'auto');
  const r = await exportBundle(chosen!.runDir, 'last', values.out!, { overwrite: values.overwrite });
  if (values.json) process.stdout.write(`${JSON.stringify({ merged: chosen!.name, out_dir: r.outDir, files: r.files })}\n`);
  else process.stdout.write(`the base with adapter ${chosen!.name} merged, written to ${r.outDir} (adapter files in ${path.join(r.outDir, 'adapter')})\n`);
  return 0;
}
