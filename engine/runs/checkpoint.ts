/**
 * Checkpoints: everything needed to continue a run at the exact step it was saved.
 *
 *   <runDir>/checkpoints/step-00000100/
 *     model.safetensors       the parameters under their Hugging Face names (so export can copy it as is)
 *                             (an int8 variant's int8 weights as I8 codes beside F32 <name>_scale: ../compression/int8Checkpoint.ts)
 *     optimizer.safetensors   AdamW's moments as optimizer.m.<name> and optimizer.v.<name>
 *     checkpoint.json         CheckpointManifest: step, tokens, AdamW's step count, RNG state, data position,
 *                             val/best loss, and each file's size, SHA-256 and expected tensors
 *   <runDir>/checkpoints/last.json, best.json   pointers (CheckpointPointer) to the newest and the best one
 *
 * safetensors: an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}
 * padded with spaces to a multiple of 8, then the raw little-endian bytes of every tensor, back to back.
 *
 * A checkpoint is written into a hidden temporary folder, every file fsynced, and renamed into place
 * (then the parent folder fsynced): a crash leaves either the whole checkpoint or a temporary that no
 * listing counts and cleanCheckpointTemps() removes. Old checkpoints are renamed to a temporary name
 * before they are deleted, so a half-deleted one is never seen either. Loading validates everything
 * (manifest, sizes, hashes, headers, every tensor and shape) and a checkpoint that fails is never used:
 * latestValidCheckpoint() walks back to the newest one that passes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, CheckpointManifest, CheckpointPointer,
  type CheckpointFile, type JsonValue,
} from '../../common/runFolder';
import { ParamStore } from '../models/params';
import { decodeSafetensors, safetensorsChunks, type DecodedTensor, type NamedTensor } from './safetensors';
import type { AdamWState, SerializedTensor } from '../training/adamw';
import { fsyncDir, isTempName, removeStaleTemps, tempPathFor, writeAndSync, writeJsonAtomic, jsonText } from '../../common/node/atomicWrite';
import { CHECKPOINTS_DIR, RunFileError } from '../../common/node/runFiles';
import { formatIssues } from '../../common/zodIssues';
import { readdirEntriesIfExists } from '../../common/node/readdirIfExists';
import { int8Tensors, splitInt8 } from '../compression/int8Checkpoint';
import type { Int8Quantized } from '../compression/quantize';

export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const MANIFEST_FILE = 'checkpoint.json';
export const LAST_POINTER = 'last.json';
export const BEST_POINTER = 'best.json';

if (os.endianness() !== 'LE') {
  // typed arrays use the host's byte order and safetensors is little-endian; no supported platform is big-endian
  throw new Error('checkpoints: this machine is big-endian; safetensors files are little-endian and would need byte swapping, which is not implemented');
}

/** checkpoints/ of a run folder. */
export function checkpointsDir(runDir: string): string {
  return path.join(runDir, CHECKPOINTS_DIR);
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

const NAME_RE = /^step-(\d+)$/;

// ---------------------------------------------------------------------------------------------------
// saving

export type ParamsInput = ParamStore | Map<string, tf.Tensor> | Record<string, tf.Tensor>;
/** An AdamW (or anything with exportState) or the state it exported. */
export type OptimizerInput = AdamWState | { exportState(): Promise<AdamWState> };

export interface CheckpointInput {
  step: number;
  tokensSeen?: number;
  params: ParamsInput;
  optimizer?: OptimizerInput | null;
  /** RNG state(s), e.g. { sampler: rng.state, dropoutSeed } */
  rng?: JsonValue;
  /** where the data loader continues, e.g. { epoch, index } */
  dataPosition?: JsonValue;
  /** validation loss at this step, when an eval ran; decides 'best' */
  valLoss?: number | null;
  extra?: Record<string, JsonValue>;
}

/** A checkpoint's content as plain data, read off the tensors: training may go on while it is written. */
export interface CheckpointSnapshot {
  step: number;
  tokensSeen: number;
  params: Map<string, SerializedTensor>;
  optimizer: AdamWState | null;
  rng: JsonValue;
  dataPosition: JsonValue;
  valLoss: number | null;
  extra: Record<string, JsonValue>;
  /** an int8 variant's weights, stored as codes and scales (engine/compression/int8Checkpoint.ts); not in `params` */
  int8?: ReadonlyMap<string, Int8Quantized>;
}

function paramEntries(params: ParamsInput): [string, tf.Tensor][] {
  if (params instanceof ParamStore) return [...params.variables];
  if (params instanceof Map) return [...params];
  return Object.entries(params);
}

/** Reads the tensors' values now; await it before the next optimizer step changes them. */
export async function snapshotCheckpoint(input: CheckpointInput): Promise<CheckpointSnapshot> {
  if (!Number.isInteger(input.step) || input.step < 0) throw new Error(`checkpoint step ${input.step} must be a non-negative integer`);
  const params = new Map<string, SerializedTensor>();
  for (const [name, t] of paramEntries(input.params)) {
    if (t.dtype !== 'float32') throw new Error(`checkpoint: parameter '${name}' is ${t.dtype}; only float32 parameters are saved`);
    params.set(name, { shape: t.shape.slice(), data: (await t.data()) as Float32Array });
  }
  const opt = input.optimizer;
  const optimizer = opt == null ? null : 'exportState' in opt ? await opt.exportState() : opt;
  return {
    step: input.step,
    tokensSeen: input.tokensSeen ?? 0,
    params,
    optimizer,
    rng: input.rng ?? null,
    dataPosition: input.dataPosition ?? null,
    valLoss: input.valLoss ?? null,
    extra: input.extra ?? {},
  };
}

export interface SaveOptions {
  /** keep this many of the newest checkpoints, this one included (and the best one besides); default: keep all */
  keepLast?: number;
  /** force this checkpoint to be (or not be) 'best'; default: it is when its valLoss beats best.json's */
  best?: boolean;
  /** test hook: called between the steps of a save, to prove that a crash at any of them is harmless */
  onPhase?: (phase: SavePhase) => void | Promise<void>;
}
export type SavePhase = 'temp-written' | 'renamed' | 'last-written' | 'best-written' | 'rotated';

export interface SavedCheckpoint {
  name: string;
  dir: string;
  step: number;
  isBest: boolean;
  bestValLoss: number | null;
  /** checkpoints deleted by rotation */
  removed: string[];
}

/** Streams chunks into a new file, fsyncs it, and returns its size and SHA-256. */
async function writeChunks(file: string, chunks: Buffer[]): Promise<{ bytes: number; sha256: string }> {
  const hash = crypto.createHash('sha256');
  const fh = await fsp.open(file, 'wx');
  let bytes = 0;
  try {
    for (const c of chunks) {
      hash.update(c);
      let off = 0;
      while (off < c.length) off += (await fh.write(c, off, c.length - off)).bytesWritten;
      bytes += c.length;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { bytes, sha256: hash.digest('hex') };
}

async function writeTensorFile(dir: string, file: string, tensors: NamedTensor[], metadata: Record<string, string>): Promise<CheckpointFile> {
  const { bytes, sha256 } = await writeChunks(path.join(dir, file), safetensorsChunks(tensors, metadata));
  return { file, bytes, sha256, tensors: tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })) };
}

/** Renames a folder entry to a temporary name, then deletes it: a half-deleted checkpoint is never visible. */
async function removeEntry(target: string): Promise<void> {
  const trash = tempPathFor(target);
  try {
    await fsp.rename(target, trash);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  await fsyncDir(path.dirname(target));
  await fsp.rm(trash, { recursive: true, force: true });
}

/** Writes a snapshot as `checkpoints/step-<N>/`, updates last.json (and best.json), then rotates. */
export async function writeCheckpoint(runDir: string, snap: CheckpointSnapshot, opts: SaveOptions = {}): Promise<SavedCheckpoint> {
  const root = checkpointsDir(runDir);
  await fsp.mkdir(root, { recursive: true });
  const name = checkpointName(snap.step);
  const final = path.join(root, name);
  const prevBest = await readPointer(runDir, 'best');
  const isBest = opts.best ?? (snap.valLoss !== null && Number.isFinite(snap.valLoss) && (prevBest === null || prevBest.valLoss === null || snap.valLoss < prevBest.valLoss));
  const bestValLoss = isBest ? snap.valLoss : prevBest?.valLoss ?? null;

  const tmp = tempPathFor(final);
  await fsp.mkdir(tmp);
  try {
    const modelTensors: NamedTensor[] = [...snap.params].map(([n, t]) => ({ name: n, dtype: 'F32', shape: t.shape, data: t.data }));
    // 'pt' is what Hugging Face loaders expect in the metadata of a model.safetensors
    const model = await writeTensorFile(tmp, MODEL_FILE, [...modelTensors, ...int8Tensors(snap.int8 ?? new Map())], { format: 'pt' });
    let optimizer: CheckpointFile | undefined;
    if (snap.optimizer) {
      const o = snap.optimizer;
      const names = Object.keys(o.m);
      const moments: NamedTensor[] = [
        ...names.map((n): NamedTensor => ({ name: `optimizer.m.${n}`, dtype: 'F32', shape: o.m[n].shape, data: o.m[n].data })),
        ...names.map((n): NamedTensor => {
          if (!o.v[n]) throw new Error(`checkpoint: optimizer state has m but no v for '${n}'`);
          return { name: `optimizer.v.${n}`, dtype: 'F32', shape: o.v[n].shape, data: o.v[n].data };
        }),
      ];
      optimizer = await writeTensorFile(tmp, OPTIMIZER_FILE, moments, {});
    }
    const manifest: CheckpointManifest = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_FORMAT_VERSION,
      step: snap.step,
      tokensSeen: snap.tokensSeen,
      created: new Date().toISOString(),
      files: { model, ...(optimizer ? { optimizer } : {}) },
      optimizer: snap.optimizer ? { step: snap.optimizer.step } : null,
      rng: snap.rng,
      dataPosition: snap.dataPosition,
      valLoss: snap.valLoss !== null && Number.isFinite(snap.valLoss) ? snap.valLoss : null,
      bestValLoss,
      extra: snap.extra,
    };
    const checked = CheckpointManifest.safeParse(manifest);
    if (!checked.success) throw new Error(`checkpoint ${name}: refused to write an invalid manifest: ${formatIssues(checked.error)}`);
    await writeAndSync(path.join(tmp, MANIFEST_FILE), jsonText(checked.data));
    await fsyncDir(tmp);
    await opts.onPhase?.('temp-written');
    // a folder cannot be renamed over a non-empty one: move an older checkpoint of the same step aside first
    await removeEntry(final);
    await fsp.rename(tmp, final);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  await fsyncDir(root);
  await opts.onPhase?.('renamed');

  const pointer: CheckpointPointer = { checkpoint: name, step: snap.step, valLoss: snap.valLoss !== null && Number.isFinite(snap.valLoss) ? snap.valLoss : null };
  await writeJsonAtomic(path.join(root, LAST_POINTER), pointer);
  await opts.onPhase?.('last-written');
  if (isBest) {
    await writeJsonAtomic(path.join(root, BEST_POINTER), pointer);
    await opts.onPhase?.('best-written');
  }

  const removed: string[] = [];
  if (opts.keepLast !== undefined) {
    if (!Number.isInteger(opts.keepLast) || opts.keepLast < 1) throw new Error(`keepLast ${opts.keepLast} must be a positive integer`);
    const protectedName = isBest ? name : prevBest?.checkpoint;
    // steps beyond the one just written are leftovers of a branch the run abandoned: they go first
    const older = (await listCheckpoints(runDir))
      .filter((c) => c.name !== name)
      .sort((a, b) => Number(a.step < snap.step) - Number(b.step < snap.step) || a.step - b.step);
    // the newest keepLast (this one included) stay, and the best one stays whatever its age
    for (const c of older.slice(0, Math.max(0, older.length - (opts.keepLast - 1)))) {
      if (c.name === protectedName) continue;
      await removeEntry(c.dir);
      removed.push(c.name);
    }
    await opts.onPhase?.('rotated');
  }
  return { name, dir: final, step: snap.step, isBest, bestValLoss, removed };
}

/** snapshotCheckpoint then writeCheckpoint. */
export async function saveCheckpoint(runDir: string, input: CheckpointInput, opts: SaveOptions = {}): Promise<SavedCheckpoint> {
  return writeCheckpoint(runDir, await snapshotCheckpoint(input), opts);
}

// ---------------------------------------------------------------------------------------------------
// listing and loading

export interface CheckpointEntry { name: string; step: number; dir: string }

/** The checkpoint folders of a run, oldest step first; temporaries and other files are not checkpoints. */
export async function listCheckpoints(runDir: string): Promise<CheckpointEntry[]> {
  const root = checkpointsDir(runDir);
  const entries = await readdirEntriesIfExists(root);
  return entries
    .filter((e) => e.isDirectory() && !isTempName(e.name) && NAME_RE.test(e.name))
    .map((e) => ({ name: e.name, step: Number(NAME_RE.exec(e.name)![1]), dir: path.join(root, e.name) }))
    .sort((a, b) => a.step - b.step || a.name.localeCompare(b.name));
}

/**
 * Removes what an interrupted save or rotation left in checkpoints/ (hidden temporary folders and files).
 * Call it from the process that is about to write checkpoints, never while another process writes them.
 */
export async function cleanCheckpointTemps(runDir: string): Promise<string[]> {
  return removeStaleTemps(checkpointsDir(runDir));
}

/** last.json or best.json, or null when absent or unreadable (they are hints; the folders are the truth). */
export async function readPointer(runDir: string, which: 'last' | 'best'): Promise<CheckpointPointer | null> {
  try {
    const raw = JSON.parse(await fsp.readFile(path.join(checkpointsDir(runDir), which === 'last' ? LAST_POINTER : BEST_POINTER), 'utf8')) as unknown;
    const r = CheckpointPointer.safeParse(raw);
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export interface LoadedCheckpoint {
  name: string;
  dir: string;
  manifest: CheckpointManifest;
  params: Map<string, SerializedTensor>;
  /** AdamW's state as importState takes it, or null when saved without one */
  optimizer: AdamWState | null;
  /** the codes and scales of weights stored as int8 (an int8 variant's); `params` holds them dequantized */
  int8: Map<string, Int8Quantized>;
}

async function readTensorFile(dir: string, spec: CheckpointFile): Promise<Map<string, DecodedTensor>> {
  const file = path.join(dir, spec.file);
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (e) {
    throw new RunFileError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the checkpoint is incomplete, use an earlier one`);
  }
  if (buf.length !== spec.bytes) throw new RunFileError(file, `is ${buf.length} bytes, the manifest says ${spec.bytes}; the checkpoint is damaged, use an earlier one`);
  const sha = crypto.createHash('sha256').update(buf).digest('hex');
  if (sha !== spec.sha256) throw new RunFileError(file, 'does not match the SHA-256 in the manifest; its bytes changed after it was written, use an earlier checkpoint');
  let tensors: Map<string, DecodedTensor>;
  try {
    tensors = decodeSafetensors(buf).tensors;
  } catch (e) {
    throw new RunFileError(file, `${(e as Error).message}; the checkpoint is damaged, use an earlier one`);
  }
  if (tensors.size !== spec.tensors.length) throw new RunFileError(file, `holds ${tensors.size} tensors, the manifest lists ${spec.tensors.length}`);
  for (const want of spec.tensors) {
    const got = tensors.get(want.name);
    if (!got) throw new RunFileError(file, `lacks tensor '${want.name}' that the manifest lists`);
    if (got.fileDtype !== want.dtype || got.shape.join() !== want.shape.join()) {
      throw new RunFileError(file, `tensor '${want.name}' is ${got.fileDtype}[${got.shape}], the manifest says ${want.dtype}[${want.shape}]`);
    }
  }
  return tensors;
}

/** Reads a checkpoint folder and validates all of it; a RunFileError names the file and the problem. */
export async function loadCheckpoint(dir: string, opts: { optimizer?: boolean } = {}): Promise<LoadedCheckpoint> {
  const name = path.basename(dir);
  const mfile = path.join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(mfile, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RunFileError(mfile, code === 'ENOENT' ? 'missing; this folder is not a complete checkpoint, use an earlier one' : `unreadable (${(e as Error).message}); use an earlier checkpoint`);
  }
  const r = CheckpointManifest.safeParse(raw);
  if (!r.success) throw new RunFileError(mfile, `does not match the checkpoint format: ${formatIssues(r.error)}`);
  const manifest = r.data;
  const m = NAME_RE.exec(name);
  if (m && Number(m[1]) !== manifest.step) throw new RunFileError(mfile, `says step ${manifest.step} but the folder is ${name}; rename the folder to ${checkpointName(manifest.step)}`);

  const { params, int8 } = splitInt8(await readTensorFile(dir, manifest.files.model), (message) => new RunFileError(path.join(dir, MODEL_FILE), message));

  let optimizer: AdamWState | null = null;
  // the optimizer's moments are twice the weights: a model opened to be used, not trained on, skips them
  if (manifest.optimizer && opts.optimizer !== false) {
    const ofile = path.join(dir, OPTIMIZER_FILE);
    if (!manifest.files.optimizer) throw new RunFileError(mfile, 'records an optimizer state but no optimizer file');
    const moments = await readTensorFile(dir, manifest.files.optimizer);
    optimizer = { step: manifest.optimizer.step, m: {}, v: {} };
    for (const [n, t] of moments) {
      const k = /^optimizer\.([mv])\.(.+)$/.exec(n);
      if (!k) throw new RunFileError(ofile, `holds '${n}', which is not optimizer.m.<name> or optimizer.v.<name>`);
      optimizer[k[1] as 'm' | 'v'][k[2]] = { shape: t.shape, data: t.data as Float32Array };
    }
    // a run with a frozen part (LoRA's base) has moments for its trainable parameters only: every moment must
    // belong to a parameter of the model file, m and v in pairs; the optimizer checks it has all it trains
    for (const which of ['m', 'v'] as const) {
      const other = which === 'm' ? 'v' : 'm';
      for (const [n, s] of Object.entries(optimizer[which])) {
        const p = params.get(n);
        if (!p) throw new RunFileError(ofile, `holds optimizer.${which}.${n} for a parameter '${n}' that ${manifest.files.model} does not have`);
        if (s.shape.join() !== p.shape.join()) throw new RunFileError(ofile, `optimizer.${which}.${n} is [${s.shape}] but the parameter is [${p.shape}]`);
        if (!optimizer[other][n]) throw new RunFileError(ofile, `lacks optimizer.${other}.${n} beside optimizer.${which}.${n}`);
      }
    }
  }
  return { name, dir, manifest, params, optimizer, int8 };
}

/** Whether a checkpoint loads; the reason when it does not. */
export async function validateCheckpoint(dir: string): Promise<{ ok: true; manifest: CheckpointManifest } | { ok: false; problem: string }> {
  try {
    return { ok: true, manifest: (await loadCheckpoint(dir)).manifest };
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
}

/**
 * The newest checkpoint of a run that loads and validates, or null. Invalid newer ones are skipped
 * (onSkip hears which and why), never used.
 */
export async function latestValidCheckpoint(runDir: string, opts: {
  onSkip?: (name: string, problem: string) => void;
  /** the caller's own check of a checkpoint that loads (its rng, say): a problem in words, or null */
  accept?: (ck: LoadedCheckpoint) => string | null;
  /** false: weights only (see loadCheckpoint) */
  optimizer?: boolean;
} = {}): Promise<LoadedCheckpoint | null> {
  const all = await listCheckpoints(runDir);
  for (const c of all.reverse()) {
    try {
      const ck = await loadCheckpoint(c.dir, { optimizer: opts.optimizer });
      const problem = opts.accept?.(ck) ?? null;
      if (problem === null) return ck;
      opts.onSkip?.(c.name, `${path.join(c.dir, MANIFEST_FILE)}: ${problem}`);
    } catch (e) {
      opts.onSkip?.(c.name, (e as Error).message);
    }
  }
  return null;
}

/** Where checkpoints that a resume could not use are kept: never deleted, since their weights may still be wanted. */
export const DAMAGED_DIR = 'damaged';

/**
 * On resume from `step` (0: a restart, no checkpoint was usable): moves every checkpoint of a later step —
 * each one the resume passed over, because it did not load or did not fit — to checkpoints/damaged/, so
 * that neither a later resume nor the UI can pick it, and a crash after the resume cannot bring it back as
 * the 'latest'. Nothing is deleted: a checkpoint whose optimizer state broke still holds good weights.
 * The pointers are moved to what remains. Returns where each went.
 */
export async function setAsideCheckpointsAfter(runDir: string, step: number): Promise<{ name: string; to: string }[]> {
  const later = (await listCheckpoints(runDir)).filter((c) => c.step > step);
  const damaged = path.join(checkpointsDir(runDir), DAMAGED_DIR);
  const moved: { name: string; to: string }[] = [];
  if (later.length) await fsp.mkdir(damaged, { recursive: true });
  for (const c of later) {
    let to = path.join(damaged, c.name);
    // set aside before, in an earlier restart: keep both
    for (let n = 1; fs.existsSync(to); n++) to = path.join(damaged, `${c.name}.${n}`);
    await fsp.rename(c.dir, to);
    moved.push({ name: c.name, to });
  }
  if (later.length) {
    await fsyncDir(damaged);
    await fsyncDir(checkpointsDir(runDir));
  }
  const gone = new Set(later.map((c) => c.name));
  // the pointers must not name what is gone: point them at the newest / best of what remains
  const remaining = await listCheckpoints(runDir);
  const root = checkpointsDir(runDir);
  const last = await readPointer(runDir, 'last');
  if (last && gone.has(last.checkpoint)) {
    const newest = remaining.at(-1);
    if (newest) await writeJsonAtomic(path.join(root, LAST_POINTER), await pointerTo(newest).catch(() => ({ checkpoint: newest.name, step: newest.step, valLoss: null })));
    else await removeEntry(path.join(root, LAST_POINTER));
  }
  const best = await readPointer(runDir, 'best');
  if (best && gone.has(best.checkpoint)) {
    let winner: CheckpointPointer | null = null;
    for (const c of remaining) {
      const p = await pointerTo(c).catch(() => null);
      if (p && p.valLoss !== null && (winner === null || p.valLoss < winner.valLoss!)) winner = p;
    }
    if (winner) await writeJsonAtomic(path.join(root, BEST_POINTER), winner);
    else await removeEntry(path.join(root, BEST_POINTER));
  }
  return moved;
}

async function pointerTo(c: CheckpointEntry): Promise<CheckpointPointer> {
  const m = CheckpointManifest.parse(JSON.parse(await fsp.readFile(path.join(c.dir, MANIFEST_FILE), 'utf8')));
  return { checkpoint: c.name, step: m.step, valLoss: m.valLoss };
}

/**
 * Puts a checkpoint's values into a model's parameters and, if given, an optimizer. The parameter sets
 * must match exactly (same names, same shapes); nothing is changed unless everything matches.
 */
export function restoreCheckpoint(ck: LoadedCheckpoint, params: ParamsInput, optimizer?: { importState(s: AdamWState): void }): void {
  const targets = paramEntries(params);
  const where = path.join(ck.dir, MODEL_FILE);
  for (const [n, t] of targets) {
    if (!(t instanceof tf.Variable)) throw new Error(`restoreCheckpoint: parameter '${n}' is not a tf.Variable and cannot be assigned`);
    const s = ck.params.get(n);
    if (!s) throw new RunFileError(where, `has no parameter '${n}' that the model needs; was it saved from another model config?`);
    if (s.shape.join() !== t.shape.join()) throw new RunFileError(where, `parameter '${n}' is [${s.shape}] but the model's is [${t.shape}]; was it saved from another model config?`);
  }
  const names = new Set(targets.map(([n]) => n));
  for (const n of ck.params.keys()) {
    if (!names.has(n)) throw new RunFileError(where, `holds parameter '${n}' that the model does not have; was it saved from another model config?`);
  }
  if (optimizer) {
    if (!ck.optimizer) throw new RunFileError(path.join(ck.dir, MANIFEST_FILE), 'was saved without optimizer state; it can seed a new run but not resume this one');
    optimizer.importState(ck.optimizer); // checks its own parameters and shapes before changing anything
  }
  for (const [n, t] of targets) {
    const s = ck.params.get(n)!;
    tf.tidy(() => (t as tf.Variable).assign(tf.tensor(s.data, s.shape, 'float32')));
  }
}
