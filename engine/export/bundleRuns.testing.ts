/**
 * The runs whose bundles the bundle tests export. `npm test` uses tiny runs trained in the test; with
 * WB_BUNDLE_EXAMPLES=1 (`npm run test:cross`) the shipped examples instead — brown-char-gpt and
 * brown-bert-mini, each trained a few steps by the command line — so that every example's bundle is proved
 * to load in transformers.js, in PyTorch and in ONNX's checker.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
export const EXAMPLE_BUNDLES = process.env.WB_BUNDLE_EXAMPLES === '1';

/** An example experiment trained `steps` steps into `outDir`; its run folder. */
function trainExample(file: string, outDir: string, steps: number): string {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/workbench.js'), 'train', path.join(root, 'experiments', file), '--steps', String(steps), '--out', outDir, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`workbench train ${file} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  return (JSON.parse(last) as { run_dir: string }).run_dir;
}

/** The GPT and BERT runs to export: the tiny ones `tiny` trains, or the examples when EXAMPLE_BUNDLES. */
export async function bundleRuns(tmp: string, tiny: { gpt: () => Promise<string>; bert: () => Promise<string> }): Promise<{ gpt: string; bert: string }> {
  if (!EXAMPLE_BUNDLES) return { gpt: await tiny.gpt(), bert: await tiny.bert() };
  return { gpt: trainExample('brown-char-gpt.experiment.json', path.join(tmp, 'gpt'), 20), bert: trainExample('brown-bert-mini.experiment.json', path.join(tmp, 'bert'), 20) };
}
