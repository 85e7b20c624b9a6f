/**
 * Export a run's checkpoint as a bundle other tools load:
 *
 *   OUT/model.safetensors        Hugging Face names and layouts (./hfLayout.ts), metadata format=pt
 *   OUT/config.json              GPT2Config / BertConfig with model_type, architectures and every size
 *                                (a fine-tuned classifier: its labels as id2label / label2id, ./classifierLabels.ts)
 *   OUT/tokenizer.json, tokenizer_config.json, special_tokens_map.json
 *   OUT/generation_config.json   GPT2LMHeadModel only
 *   OUT/onnx/model.onnx, onnx/model_quantized.onnx   (./onnxModels.ts)
 *   OUT/README.md                the model card with the verification report (./modelCard.ts)
 *
 * The model is opened through loadRunModel (the one door). Everything is written into a hidden temporary
 * folder beside OUT, checked (./verify.ts), fsynced, and renamed to OUT at the end: a killed export leaves
 * a temporary, never half a bundle under OUT, and the next export beside it removes temporaries whose
 * process is gone. A non-empty OUT is refused unless `overwrite`; the old bundle is then replaced by a
 * rename too (a kill between the two renames leaves the new bundle in the temporary, OUT absent).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../../common/errors';
import { objectiveOfRun } from '../../common/runConfig';
import { hfUnrepresentable, toHfBertConfig, toHfGpt2Config, type HfBertArchitecture, type HfClassifierLabels, type HfConfigExtras } from '../../common/hfConfig';
import { fsyncDir, jsonText, removeDeadWritersTemps, tempPathFor, writeAndSync } from '../../common/node/atomicWrite';
import { SPECIAL_NAMES, SPECIAL_TOKENS } from '../../common/tokenizerConfig';
import { activeBackend } from '../backends/select';
import { safetensorsChunks } from '../runs/safetensors';
import { loadRunModel, type CheckpointChoice, type RunModel } from '../runs/loadRunModel';
import { readMetrics } from '../runs/metricsLog';
import { hfTokenizerConfig } from '../tokenizers';
import { classifierFacts, type ClassifierFacts } from './classifierLabels';
import { hfArchitecture, hfStateDict, type HfArchitecture } from './hfLayout';
import { modelCard } from './modelCard';
import { writeOpenedAdapter } from '../finetune/lora/openLoraRun';
import { bundleOnnx } from './onnxModels';
import { paramSource, verifyBundle, type VerificationReport } from './verify';

export type ExportStage = 'open' | 'safetensors' | 'config' | 'tokenizer' | 'onnx' | 'onnx-int8' | 'verify' | 'card' | 'publish';

export interface ExportProgress { stage: ExportStage; message: string }

export interface ExportOptions {
  /** replace a non-empty output folder (default: refuse it) */
  overwrite?: boolean;
  onProgress?: (p: ExportProgress) => void;
  signal?: AbortSignal;
}

export interface ExportResult {
  outDir: string;
  architecture: HfArchitecture;
  checkpoint: RunModel['checkpoint'];
  files: { file: string; bytes: number }[];
  report: VerificationReport;
  notes: string[];
}

const refuse = (message: string, field: string) => new EngineError('INVALID_CONFIG', message, [field]);

export async function exportBundle(runDir: string, checkpoint: CheckpointChoice, outDir: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const out = path.resolve(outDir);
  const run = path.resolve(runDir);
  checkOutDir(out, run, opts.overwrite ?? false);
  const step = (stage: ExportStage, message: string) => {
    if (opts.signal?.aborted) throw new EngineError('JOB_CANCELLED', `export cancelled before ${stage}; ${out} was not written`);
    opts.onProgress?.({ stage, message });
  };

  step('open', `opening ${run} at checkpoint ${checkpoint}`);
  const rm = await loadRunModel(run, checkpoint);
  let temp: string | null = null;
  try {
    const problems = hfUnrepresentable(rm.model.config);
    if (problems.length) throw refuse(`${run}: cannot be exported as a Hugging Face bundle: ${problems.join('; ')}`, 'model');
    const classifier = await classifierFacts(rm.runDir, rm.config, rm.model.config.numLabels);
    await fsp.mkdir(path.dirname(out), { recursive: true });
    await removeDeadWritersTemps(out);
    temp = tempPathFor(out);
    await fsp.mkdir(path.join(temp, 'onnx'), { recursive: true });
    const report = await writeBundle(rm, classifier, temp, step);
    step('publish', `moving the bundle into ${out}`);
    await publish(temp, out);
    temp = null;
    return { outDir: out, architecture: hfArchitecture(rm.model.config, objectiveOfRun(rm.config)), checkpoint: rm.checkpoint, files: await listFiles(out), report, notes: rm.notes };
  } finally {
    rm.model.dispose();
    if (temp) await fsp.rm(temp, { recursive: true, force: true });
  }
}

/** A file where the folder should be, a non-empty folder without overwrite, or the run's own folder (or one above it) are refused before any work. */
export function checkOutDir(out: string, run: string, overwrite: boolean): void {
  if (run === out || run.startsWith(out + path.sep)) throw refuse(`--out ${out}: is the run folder or holds it; export into a folder of its own`, 'out');
  let entries: string[];
  try {
    entries = fs.readdirSync(out);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw refuse(`--out ${out}: is a file, not a folder; give a folder (it is made if missing)`, 'out');
    throw refuse(`--out ${out}: cannot be read (${code ?? (e as Error).message}); give a folder you can write to`, 'out');
  }
  if (entries.length && !overwrite) {
    throw refuse(`--out ${out}: is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, e.g. ${entries.slice(0, 3).join(', ')}); give an empty or new folder, or pass --overwrite to replace what is there`, 'out');
  }
}

async function writeBundle(rm: RunModel, classifier: ClassifierFacts | null, dir: string, step: (stage: ExportStage, message: string) => void): Promise<VerificationReport> {
  const c = rm.model.config;
  const arch = hfArchitecture(c, objectiveOfRun(rm.config));
  const write = (file: string, data: Uint8Array | string) => writeAndSync(path.join(dir, file), data);

  step('safetensors', `writing model.safetensors (${arch})`);
  await write('model.safetensors', Buffer.concat(safetensorsChunks(hfStateDict(rm.model.params, arch), { format: 'pt' })));

  step('config', 'writing config.json');
  const special = rm.tokenizer.specialIds;
  // a causal run joins documents with [SEP] (as GPT-2 with <|endoftext|>): it begins and ends a text
  const extras: HfConfigExtras & HfClassifierLabels = { padTokenId: special.pad, bosTokenId: special.sep, eosTokenId: special.sep, ...(classifier ? { labels: classifier.labels } : {}) };
  await write('config.json', jsonText(c.arch === 'gpt' ? toHfGpt2Config(c, extras) : toHfBertConfig(c, arch as HfBertArchitecture, extras)));
  if (c.arch === 'gpt' && !classifier) {
    await write('generation_config.json', jsonText({ do_sample: true, max_length: c.contextLength, bos_token_id: extras.bosTokenId ?? null, eos_token_id: extras.eosTokenId ?? null, pad_token_id: extras.padTokenId ?? null }));
  }

  step('tokenizer', `writing the ${rm.tokenizer.kind} tokenizer`);
  await write('tokenizer.json', jsonText(rm.tokenizer.toJSON()));
  // BertTokenizerFast runs tokenizer.json as it is and, unlike the generic class, returns token_type_ids (transformers.js too)
  const tokenizerClass = rm.tokenizer.kind === 'wordpiece' ? { tokenizer_class: 'BertTokenizerFast' } : {};
  await write('tokenizer_config.json', jsonText({ ...hfTokenizerConfig(rm.tokenizer), ...tokenizerClass, model_max_length: c.contextLength }));
  await write('special_tokens_map.json', jsonText(Object.fromEntries(SPECIAL_NAMES.filter((n) => special[n] !== undefined).map((n) => [`${n}_token`, SPECIAL_TOKENS[n]]))));

  const weights = paramSource(rm.model.params, rm.quantization);
  step('onnx', 'writing onnx/model.onnx (float32)');
  await write('onnx/model.onnx', bundleOnnx(c, weights, { int8: false }));
  step('onnx-int8', 'writing onnx/model_quantized.onnx (int8 projections)');
  await write('onnx/model_quantized.onnx', bundleOnnx(c, weights, { int8: true }));

  const adapter = await writeOpenedAdapter(rm.model, dir); // a LoRA run: its adapter beside the merged model
  step('verify', 'reading the bundle back and comparing its logits with the model\'s');
  const report = await verifyBundle(dir, rm.model, arch);
  if (!report.ok) {
    const bad = report.checks.filter((k) => !k.ok).map((k) => `${k.file}: relative error ${k.relError.toExponential(2)} > ${k.tolerance}`);
    throw new EngineError('INTERNAL', `the exported bundle does not reproduce the model (${bad.join('; ')}); nothing was published — please report this with the run folder`);
  }

  step('card', 'writing README.md (model card)');
  const losses = await finalLosses(rm);
  await write('README.md', modelCard({ rm, config: c, architecture: arch, classifier, adapterBytes: adapter?.bytes ?? null, losses, report, exportedAt: new Date().toISOString(), exportBackend: activeBackend() }));
  await fsyncDir(path.join(dir, 'onnx'));
  await fsyncDir(dir);
  return report;
}

/** The last train and validation loss logged at or before the checkpoint's step. */
async function finalLosses(rm: RunModel): Promise<{ train: number | null; val: number | null }> {
  const { records } = await readMetrics(rm.runDir);
  const last = (tag: string) => records.filter((r) => r.step <= rm.checkpoint.step && tag in r.scalars).at(-1)?.scalars[tag] ?? null;
  return { train: last('train/loss'), val: last('val/loss') };
}

export async function publish(temp: string, out: string): Promise<void> {
  const old = fs.existsSync(out) ? tempPathFor(out) : null;
  if (old) await fsp.rename(out, old);
  await fsp.rename(temp, out);
  await fsyncDir(path.dirname(out));
  if (old) await fsp.rm(old, { recursive: true, force: true });
}

export async function listFiles(dir: string, prefix = ''): Promise<{ file: string; bytes: number }[]> {
  const out: { file: string; bytes: number }[] = [];
  for (const e of await fsp.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = path.posix.join(prefix, e.name);
    if (e.isDirectory()) out.push(...await listFiles(dir, rel));
    else out.push({ file: rel, bytes: (await fsp.stat(path.join(dir, rel))).size });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}
