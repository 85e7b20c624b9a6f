/**
 * Adapters as PEFT saves them (`save_pretrained`): `adapter_model.safetensors`, whose keys are the PeftModel's
 * state-dict names with the adapter's name taken out (`base_model.model.transformer.h.0.attn.c_attn.lora_A.weight`
 * for GPT-2, `base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight` for BERT; a fully
 * trained head as `base_model.model.score.weight`), and `adapter_config.json` with LoraConfig's keys. A folder
 * written here loads with `PeftModel.from_pretrained` over the base exported as a Hugging Face bundle.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { EngineError } from '../../../common/errors';
import { LoraConfig } from '../../../common/finetuneConfig';
import { jsonText, writeAndSync } from '../../../common/node/atomicWrite';
import type { AnyModel } from '../../models/registry';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../runs/safetensors';
import { attachLora, loraParamNames, type LoraAttachment } from './attach';
import { isRegexPattern } from './targets';

export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const ADAPTER_CONFIG = 'adapter_config.json';
const PEFT_PREFIX = 'base_model.model.';
/** an adapter file is small (megabytes); a bigger one is not an adapter */
const MAX_ADAPTER_BYTES = 2 ** 30;

export type PeftTaskType = 'CAUSAL_LM' | 'SEQ_CLS' | null;

export interface AdapterInfo {
  /** the base model the adapter applies to (PEFT's base_model_name_or_path): the base's bundle or run folder */
  baseModel: string;
  taskType: PeftTaskType;
  /** parameters trained whole beside the adapters (a classifier head), saved with them: PEFT's modules_to_save */
  modulesToSave?: string[];
}

/** The name a module has inside GPT2LMHeadModel / GPT2ForSequenceClassification (body under `transformer.`) or BERT's classes (as is). */
export function hfModuleName(arch: 'gpt' | 'bert', name: string): string {
  return arch === 'gpt' && !name.startsWith('score.') && name !== 'score' ? `transformer.${name}` : name;
}

const engineModuleName = (arch: 'gpt' | 'bert', hf: string) => (arch === 'gpt' && hf.startsWith('transformer.') ? hf.slice('transformer.'.length) : hf);

/**
 * target_modules as PEFT reads it: a list of names (matched whole or as a dotted suffix) when every pattern
 * is a plain name; one regular expression that fully matches (PEFT's only form for patterns) otherwise. PEFT
 * matches the Hugging Face class's names, which put GPT-2's body under `transformer.`: a pattern written over
 * the workbench's names may be preceded by it.
 */
export function peftTargetModules(patterns: readonly string[], arch: 'gpt' | 'bert'): string[] | string {
  if (!patterns.some(isRegexPattern)) return [...patterns].sort();
  const escape = (p: string) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const body = arch === 'gpt' ? '(?:transformer\\.)?' : '';
  return patterns.map((p) => (isRegexPattern(p) ? `${body}(?:${p})` : `(?:.*\\.)?${escape(p)}`)).join('|');
}

/** adapter_config.json, with the keys PEFT's LoraConfig writes. */
export function adapterConfig(model: AnyModel, att: LoraAttachment, info: AdapterInfo): Record<string, unknown> {
  const arch = model.config.arch;
  const saved = [...new Set((info.modulesToSave ?? []).map((n) => hfModuleName(arch, n.replace(/\.(weight|bias)$/, ''))))];
  return {
    alpha_pattern: {}, auto_mapping: null, base_model_name_or_path: info.baseModel, bias: 'none',
    fan_in_fan_out: arch === 'gpt', inference_mode: true, init_lora_weights: true, layer_replication: null,
    layers_pattern: null, layers_to_transform: null, loftq_config: {}, lora_alpha: att.config.alpha, lora_dropout: att.config.dropout,
    megatron_config: null, megatron_core: 'megatron.core', modules_to_save: saved.length ? saved : null, peft_type: 'LORA',
    r: att.config.r, rank_pattern: {}, revision: null, target_modules: peftTargetModules(att.patterns, arch), task_type: info.taskType,
    use_dora: false, use_rslora: false,
  };
}

/** The adapter's tensors under PEFT's keys, A and B of each module in the model's order, then the parameters saved whole. */
export function adapterTensors(model: AnyModel, att: LoraAttachment, modulesToSave: readonly string[] = []): NamedTensor[] {
  const arch = model.config.arch;
  const tensor = (name: string, key: string): NamedTensor => {
    const v = model.params.get(name);
    return { name: PEFT_PREFIX + key, dtype: 'F32', shape: [...v.shape], data: v.dataSync() as Float32Array };
  };
  const out: NamedTensor[] = [];
  for (const module of att.targets) {
    const n = loraParamNames(module);
    out.push(tensor(n.A, `${hfModuleName(arch, module)}.lora_A.weight`), tensor(n.B, `${hfModuleName(arch, module)}.lora_B.weight`));
  }
  for (const name of modulesToSave) {
    const leaf = name.slice(name.lastIndexOf('.'));
    out.push(tensor(name, hfModuleName(arch, name.slice(0, -leaf.length)) + leaf));
  }
  return out;
}

/** Writes the two files into `dir` (made if missing) and says how big they are. */
export async function writeAdapter(dir: string, model: AnyModel, att: LoraAttachment, info: AdapterInfo): Promise<WrittenAdapter> {
  return writeAdapterFiles(dir, adapterTensors(model, att, info.modulesToSave), adapterConfig(model, att, info));
}

export interface WrittenAdapter { dir: string; files: { file: string; bytes: number }[]; bytes: number }

export async function writeAdapterFiles(dir: string, tensors: NamedTensor[], config: Record<string, unknown>): Promise<WrittenAdapter> {
  await fs.promises.mkdir(dir, { recursive: true });
  const weights = encodeSafetensors(tensors, { format: 'pt' });
  const text = jsonText(config);
  await writeAndSync(path.join(dir, ADAPTER_WEIGHTS), weights);
  await writeAndSync(path.join(dir, ADAPTER_CONFIG), text);
  const files = [{ file: ADAPTER_WEIGHTS, bytes: weights.length }, { file: ADAPTER_CONFIG, bytes: Buffer.byteLength(text) }];
  return { dir, files, bytes: files.reduce((s, f) => s + f.bytes, 0) };
}

export interface ReadAdapter {
  config: LoraConfig;
  /** engine parameter name → values */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  taskType: PeftTaskType;
  baseModel: string;
}

const bad = (file: string, why: string) => new EngineError('INVALID_CONFIG', `${file}: ${why}`, ['adapter']);

/** Reads a PEFT LoRA folder for a model of `arch`, checked: the config's keys and the tensors' names. */
export function readAdapter(dir: string, arch: 'gpt' | 'bert'): ReadAdapter {
  const cfgFile = path.join(dir, ADAPTER_CONFIG);
  const wFile = path.join(dir, ADAPTER_WEIGHTS);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw bad(cfgFile, `cannot be read as JSON (${(err as Error).message}); an adapter folder holds ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS} as PEFT saves them`);
  }
  if (raw.peft_type !== 'LORA') throw bad(cfgFile, `peft_type is ${JSON.stringify(raw.peft_type)}; only LORA adapters are read`);
  if (raw.use_dora === true || raw.use_rslora === true) throw bad(cfgFile, 'uses DoRA or rsLoRA, which this workbench does not compute; save a plain LoRA adapter');
  const targets = typeof raw.target_modules === 'string' ? [raw.target_modules] : raw.target_modules;
  const parsed = LoraConfig.safeParse({ r: raw.r, alpha: raw.lora_alpha, dropout: raw.lora_dropout, targetModules: targets });
  if (!parsed.success) throw bad(cfgFile, `r, lora_alpha, lora_dropout or target_modules is not usable: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const size = fs.statSync(wFile, { throwIfNoEntry: false })?.size;
  if (size === undefined) throw bad(wFile, 'missing; the adapter\'s weights are in this file beside its config');
  if (size > MAX_ADAPTER_BYTES) throw bad(wFile, `is ${size} bytes, more than an adapter's ${MAX_ADAPTER_BYTES}; is it a whole model?`);
  let decoded;
  try {
    decoded = decodeSafetensors(fs.readFileSync(wFile));
  } catch (err) {
    throw bad(wFile, (err as Error).message);
  }
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [key, t] of decoded.tensors) {
    if (!key.startsWith(PEFT_PREFIX)) throw bad(wFile, `tensor '${key}' does not start with '${PEFT_PREFIX}' as PEFT's keys do`);
    if (!(t.data instanceof Float32Array)) throw bad(wFile, `tensor '${key}' is not a float tensor`);
    const hf = key.slice(PEFT_PREFIX.length);
    const leaf = hf.match(/\.(lora_[AB]\.weight|weight|bias)$/)?.[0] ?? '';
    tensors.set(engineModuleName(arch, hf.slice(0, hf.length - leaf.length)) + leaf, { shape: t.shape, data: t.data });
  }
  return { config: parsed.data, tensors, taskType: (raw.task_type ?? null) as PeftTaskType, baseModel: String(raw.base_model_name_or_path ?? '') };
}

/**
 * Attaches the adapter in `dir` to `model` (a base opened through loadRunModel): the adapter's targets are
 * matched on this model, and its A, B and saved parameters replace the fresh ones. Switching adapters is
 * detaching one and loading another; a head saved whole (modules_to_save) stays the adapter's after a detach.
 */
export function loadAdapter(model: AnyModel, dir: string): LoraAttachment {
  const read = readAdapter(dir, model.config.arch);
  const att = attachLora(model, read.config, 0);
  try {
    const wanted = new Set(att.trainable);
    for (const [name, t] of read.tensors) {
      if (!model.params.has(name)) throw bad(path.join(dir, ADAPTER_WEIGHTS), `holds '${name}', which this model does not have; was the adapter trained on another base?`);
      const value = tf.tensor(t.data, t.shape);
      model.params.assign(name, value);
      value.dispose();
      wanted.delete(name);
    }
    if (wanted.size) throw bad(path.join(dir, ADAPTER_WEIGHTS), `lacks ${[...wanted].slice(0, 3).join(', ')}${wanted.size > 3 ? ` and ${wanted.size - 3} more` : ''} that its target_modules select on this model`);
  } catch (err) {
    att.detach();
    throw err;
  }
  return att;
}
