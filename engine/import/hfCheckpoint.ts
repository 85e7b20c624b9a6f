/**
 * A Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer.json) brought in as a run
 * folder: one checkpoint holding its weights, its tokenizer, and run.json saying where it came from
 * (common/runConfig.ts ImportRunConfig). From then on it opens through loadRunModel like any trained run:
 * inspect, sampling, export, fine-tuning and compression need nothing else.
 *
 * Everything is checked before a run folder appears: config.json against the options this engine runs,
 * the safetensors file whole (engine/runs/safetensors.ts), every tensor against the model's own names and
 * shapes (a missing, extra or misshapen tensor is refused by name), and the tokenizer against the
 * vocabulary. The folder is written under a temporary name and renamed at the end: an import killed
 * half-way leaves nothing under the final name.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { BackendInfo } from '../../common/backends';
import { EngineError } from '../../common/errors';
import { HfBertConfigFile, HfGpt2ConfigFile, modelConfigFromHf } from '../../common/hfConfig';
import { ModelConfig } from '../../common/modelConfig';
import { fsyncDir, tempPathFor, writeJsonAtomic } from '../../common/node/atomicWrite';
import { RUN_JSON, TOKENIZER_FILE } from '../../common/node/runFiles';
import type { ImportRunConfig } from '../../common/runConfig';
import { RUN_FORMAT, RUN_FORMAT_VERSION, RunId, RunJson } from '../../common/runFolder';
import { formatIssues } from '../../common/zodIssues';
import { createModel } from '../models/registry';
import { checkpointName, writeCheckpoint } from '../runs/checkpoint';
import { SafetensorsError, decodeSafetensors, type DecodedTensor } from '../runs/safetensors';
import { loadTokenizer, saveTokenizer } from '../tokenizers';
import { checkMemory } from '../training/memoryBudget';

/** Largest config.json read (real ones are a few KiB). */
const MAX_CONFIG_BYTES = 1 << 20;
/** Largest model.safetensors read: one buffer in memory, and Node reads at most 2 GiB at once (GPT-2 medium, 1.4 GB, fits). */
export const MAX_WEIGHTS_BYTES = 2 ** 31 - 1;

export type ImportPhase = 'checking' | 'reading weights' | 'writing run';
export interface ImportOptions {
  /** the run's name in lists; default: the folder's name */
  name?: string;
  /** recorded in run.json as the backend the import ran on */
  backend: BackendInfo;
  onProgress?: (phase: ImportPhase) => void;
  signal?: AbortSignal;
}

export interface ImportResult {
  runDir: string;
  config: ImportRunConfig;
  parameters: number;
}

const refuse = (message: string, field = 'dir') => new EngineError('INVALID_CONFIG', message, [field]);

function checkCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new EngineError('JOB_CANCELLED', 'import cancelled');
}

/** Reads `dir` as a Hugging Face checkpoint folder and writes it as the run folder `outDir` (which must not exist, or be empty). */
export async function importHfCheckpoint(dir: string, outDir: string, opts: ImportOptions): Promise<ImportResult> {
  const src = path.resolve(dir);
  const out = path.resolve(outDir);
  const report = opts.onProgress ?? (() => {});
  report('checking');
  const files = await checkFolder(src, opts.signal);
  await checkOutDir(out);
  const hf = await readConfigJson(path.join(src, 'config.json'));
  const tokenizer = loadTokenizer(path.join(src, 'tokenizer.json'));
  if (tokenizer.vocabSize > hf.vocab_size) {
    throw refuse(`${path.join(src, 'tokenizer.json')}: has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${hf.vocab_size}; the folder's tokenizer and model disagree`);
  }
  const parsed = ModelConfig.safeParse(modelConfigFromHf(hf));
  if (!parsed.success) throw refuse(`${path.join(src, 'config.json')}: gives a model this engine cannot build: ${formatIssues(parsed.error)}`);
  const model = parsed.data;
  // what the model needs to be used (not trained): checked before reading a byte of weights
  checkMemory(model, 1, model.contextLength, opts.backend.name);

  checkCancelled(opts.signal);
  report('reading weights');
  const weightsFile = path.join(src, 'model.safetensors');
  let buf: Buffer;
  try {
    buf = await fsp.readFile(weightsFile, { signal: opts.signal });
  } catch (e) {
    checkCancelled(opts.signal);
    throw e;
  }
  let decoded: Map<string, DecodedTensor>;
  try {
    decoded = decodeSafetensors(buf).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError) throw refuse(`${weightsFile}: ${e.message}; it is not a valid safetensors file`);
    throw e;
  }
  const architecture = hf.architectures?.[0] ?? (hf.model_type === 'gpt2' ? 'GPT2LMHeadModel' : 'BertForPreTraining');
  const notes: string[] = [];
  const params = matchTensors(decoded, model, weightsFile, notes);

  checkCancelled(opts.signal);
  report('writing run');
  const config: ImportRunConfig = {
    task: 'import',
    source: { format: 'huggingface', dir: src, modelType: hf.model_type, architecture, files: files.map((f) => ({ file: path.basename(f.path), bytes: f.bytes, sha256: f.sha256 })) },
    model,
    notes,
  };
  const parameters = [...params.values()].reduce((n, t) => n + t.data.length, 0);
  const tmp = tempPathFor(out);
  try {
    await fsp.mkdir(tmp, { recursive: true });
    saveTokenizer(tokenizer, path.join(tmp, TOKENIZER_FILE));
    await writeCheckpoint(tmp, { step: 0, tokensSeen: 0, params, optimizer: null, rng: null, dataPosition: null, valLoss: null, extra: { importedFrom: src } });
    const now = new Date().toISOString();
    const id = RunId.safeParse(path.basename(out)).success ? path.basename(out) : 'imported';
    await writeJsonAtomic(path.join(tmp, RUN_JSON), RunJson.parse({
      format: RUN_FORMAT, version: RUN_FORMAT_VERSION, id, name: opts.name ?? path.basename(src), created: now, updated: now,
      status: 'completed', config, backend: opts.backend, seed: 0, step: 0, tokensSeen: 0, bestValLoss: null,
      lastCheckpoint: checkpointName(0),
    } satisfies RunJson));
    checkCancelled(opts.signal);
    await fsp.rmdir(out).catch(() => {}); // an empty folder the user made for it (checkOutDir refused any other)
    await fsp.rename(tmp, out);
    await fsyncDir(path.dirname(out));
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return { runDir: out, config, parameters };
}

interface SourceFile { path: string; bytes: number; sha256: string }

/** The folder's three files, each a regular file within its bound; a pickle or a sharded checkpoint is refused with the way out. */
async function checkFolder(src: string, signal?: AbortSignal): Promise<SourceFile[]> {
  const stat = await fsp.stat(src).catch(() => null);
  if (!stat?.isDirectory()) throw refuse(`${src}: is not a folder; give the folder that holds config.json, model.safetensors and tokenizer.json`);
  const has = (f: string) => fs.existsSync(path.join(src, f));
  if (!has('model.safetensors')) {
    if (has('model.safetensors.index.json')) throw refuse(`${src}: holds a sharded checkpoint (model.safetensors.index.json); the workbench reads one model.safetensors — save the model again with a larger max_shard_size`);
    if (has('pytorch_model.bin')) {
      throw refuse(`${src}: has pytorch_model.bin but no model.safetensors; the workbench reads safetensors only, because loading a .bin file (a Python pickle) runs code from the file. Convert it where you trust it: model.save_pretrained(DIR, safe_serialization=True)`);
    }
    throw refuse(`${src}: has no model.safetensors; a Hugging Face checkpoint folder holds config.json, model.safetensors and tokenizer.json`);
  }
  if (!has('tokenizer.json')) {
    throw refuse(`${src}: has no tokenizer.json${has('vocab.txt') || has('merges.txt') ? ' (vocab.txt / merges.txt alone are not enough)' : ''}; save the fast tokenizer beside the model: AutoTokenizer.from_pretrained(DIR).save_pretrained(DIR)`);
  }
  if (!has('config.json')) throw refuse(`${src}: has no config.json; save the model with save_pretrained, which writes it`);
  const out: SourceFile[] = [];
  for (const [name, max] of [['config.json', MAX_CONFIG_BYTES], ['tokenizer.json', 256 * 2 ** 20], ['model.safetensors', MAX_WEIGHTS_BYTES]] as const) {
    const file = path.join(src, name);
    const s = await fsp.stat(file);
    if (!s.isFile()) throw refuse(`${file}: is not a regular file`);
    if (s.size > max) throw refuse(`${file}: is ${s.size} bytes, over the ${max}-byte limit for ${name}`);
    out.push({ path: file, bytes: s.size, sha256: await sha256Of(file, signal) });
  }
  return out;
}

async function sha256Of(file: string, signal?: AbortSignal): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    checkCancelled(signal); // between 1 MiB chunks: a cancel is answered within milliseconds
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

async function checkOutDir(out: string): Promise<void> {
  const entries = await fsp.readdir(out).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
  if (entries && entries.length) throw refuse(`${out}: exists and is not empty; choose another --out folder (an import never writes over files)`, 'out');
}

const HfConfigFile = z.discriminatedUnion('model_type', [HfGpt2ConfigFile, HfBertConfigFile]);

async function readConfigJson(file: string): Promise<z.infer<typeof HfConfigFile>> {
  let doc: unknown;
  try {
    doc = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    throw refuse(`${file}: is not valid JSON (${(e as Error).message})`);
  }
  const type = (doc as { model_type?: unknown } | null)?.model_type;
  if (type !== 'gpt2' && type !== 'bert') {
    throw refuse(`${file}: model_type ${JSON.stringify(type)} is not an architecture the workbench builds; it imports gpt2 and bert checkpoints`);
  }
  const r = HfConfigFile.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = String(issue?.path[0] ?? '');
    const schema = type === 'gpt2' ? HfGpt2ConfigFile : HfBertConfigFile;
    const why = (schema.shape as Record<string, z.ZodType>)[field]?.description;
    throw refuse(`${file}: ${formatIssues(r.error)}${why ? ` (${field}: ${why})` : ''}`);
  }
  return r.data;
}

/**
 * The checkpoint's tensors under this engine's names, every one the model has, each of its shape. The
 * file may name them as a bare model or a model with heads (`transformer.`/`bert.` prefixes), with the
 * buffers and tied copies Hugging Face writes; the heads a BertForMaskedLM or BertModel lacks are left as
 * initialised, and said so in `notes`.
 */
function matchTensors(file: Map<string, DecodedTensor>, model: ModelConfig, weightsFile: string, notes: string[]): Map<string, { shape: number[]; data: Float32Array }> {
  const engine = createModel(model, 0);
  try {
    const wanted = new Map(engine.params.names.map((n) => [n, engine.params.get(n).shape]));
    const embedding = model.arch === 'gpt' ? 'wte.weight' : 'bert.embeddings.word_embeddings.weight';
    const tiedCopies: [string, string][] = model.arch === 'gpt'
      ? [['lm_head.weight', 'wte.weight']]
      : [['cls.predictions.decoder.weight', embedding], ['cls.predictions.decoder.bias', 'cls.predictions.bias']];
    const found = new Map<string, DecodedTensor>();
    const extra: string[] = [];
    for (const [name, t] of file) {
      const ours = engineName(name, model.arch);
      if (ours === null) continue; // a buffer, not a parameter
      if (!wanted.has(ours) && !tiedCopies.some(([copy]) => copy === ours)) { extra.push(name); continue; }
      if (found.has(ours)) throw refuse(`${weightsFile}: holds '${ours}' twice (as ${name} and under another prefix)`);
      if (t.dtype !== 'F32') throw refuse(`${weightsFile}: tensor '${name}' is ${t.fileDtype}, an integer type; model weights are floats`);
      found.set(ours, t);
    }
    if (extra.length) throw refuse(`${weightsFile}: has ${extra.length} tensor${extra.length > 1 ? 's' : ''} a ${model.arch === 'gpt' ? 'GPT-2' : 'BERT'} of this config.json does not have: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`);
    for (const [copy, of] of tiedCopies) {
      const t = found.get(copy);
      if (!t) continue;
      const base = found.get(of);
      if (base && !sameValues(t.data, base.data)) throw refuse(`${weightsFile}: '${copy}' differs from '${of}'; this engine ties them, so an untied checkpoint cannot be imported faithfully`);
      found.delete(copy);
    }
    const optionalHeads = model.arch === 'bert' ? ['bert.pooler.', 'cls.seq_relationship.', 'cls.predictions.'] : [];
    const params = new Map<string, { shape: number[]; data: Float32Array }>();
    const initialised = new Set<string>();
    for (const [name, shape] of wanted) {
      const t = found.get(name);
      if (!t) {
        const head = optionalHeads.find((p) => name.startsWith(p));
        if (!head) throw refuse(`${weightsFile}: lacks tensor '${name}' of shape [${shape}], which the model needs`);
        initialised.add(head);
        params.set(name, { shape, data: engine.params.get(name).dataSync() as Float32Array });
        continue;
      }
      if (t.shape.join() !== shape.join()) throw refuse(`${weightsFile}: tensor '${name}' has shape [${t.shape}], the model of this config.json needs [${shape}]`);
      params.set(name, { shape, data: t.data as Float32Array });
    }
    if (initialised.has('bert.pooler.') || initialised.has('cls.seq_relationship.')) {
      notes.push('the checkpoint has no next-sentence head (pooler, seq_relationship): it is initialised at random, and its NSP outputs mean nothing until trained');
    }
    if (initialised.has('cls.predictions.')) {
      notes.push('the checkpoint has no masked-LM head (cls.predictions): it is initialised at random, so fill-mask guesses mean nothing until trained');
    }
    return params;
  } finally {
    engine.dispose();
  }
}

/** A file's tensor name as this engine names it, or null for a buffer that is not a parameter. */
function engineName(name: string, arch: 'gpt' | 'bert'): string | null {
  if (arch === 'gpt') {
    const bare = name.startsWith('transformer.') ? name.slice('transformer.'.length) : name;
    return /^h\.\d+\.attn\.(bias|masked_bias)$/.test(bare) ? null : bare;
  }
  if (name.endsWith('position_ids')) return null;
  const renamed = name.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
  return /^(embeddings|encoder|pooler)\./.test(renamed) ? `bert.${renamed}` : renamed;
}

function sameValues(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
