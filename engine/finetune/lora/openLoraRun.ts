/**
 * How the one door (engine/runs/loadRunModel.ts) opens a LoRA fine-tuning run: the adapters are attached
 * before the checkpoint is restored (it holds them beside the frozen base), then merged into the weights and
 * taken off. Every feature — inspect, sampling, export, serving, comparison — gets a plain model that computes
 * what the adapted one did, and the adapter as PEFT saves it is kept aside for export to write beside it.
 */
import path from 'node:path';
import type { RunConfig } from '../../../common/runConfig';
import type { AnyModel } from '../../models/registry';
import type { NamedTensor } from '../../runs/safetensors';
import { CLASSIFIER_HEAD } from '../trainable';
import { attachLora, type LoraAttachment } from './attach';
import { mergeAndDetach } from './merge';
import { adapterConfig, adapterTensors, writeAdapterFiles, type AdapterInfo, type WrittenAdapter } from './peftFiles';

/** The folder of a LoRA run's exported bundle that holds its adapter. */
export const ADAPTER_DIR = 'adapter';

const openedAdapters = new WeakMap<AnyModel, { tensors: NamedTensor[]; config: Record<string, unknown> }>();

/** The heads a classifier trains whole beside its adapters (PEFT's modules_to_save for SEQ_CLS). */
export function wholeTrainedHeads(model: AnyModel): string[] {
  return model.config.numLabels ? model.params.names.filter((n) => CLASSIFIER_HEAD.test(n)) : [];
}

/** What a LoRA run's adapter files say about it. */
export function adapterInfoOf(config: RunConfig & { task: 'finetune' }, model: AnyModel): AdapterInfo {
  const taskType = model.config.numLabels ? 'SEQ_CLS' : model.config.arch === 'gpt' ? 'CAUSAL_LM' : null;
  return { baseModel: config.base.runDir, taskType, modulesToSave: wholeTrainedHeads(model) };
}

export const isLoraRun = (config: RunConfig): config is RunConfig & { task: 'finetune' } => config.task === 'finetune' && config.finetune.method === 'lora';

/** Restores a run's weights with `restore`; a LoRA run's adapters are attached first and merged after. */
export function restoreRunWeights(config: RunConfig, model: AnyModel, restore: () => void): void {
  if (!isLoraRun(config)) return restore();
  const att: LoraAttachment = attachLora(model, config.finetune.lora, 0); // A and B come from the checkpoint
  try {
    restore();
  } catch (err) {
    att.detach();
    throw err;
  }
  const info = adapterInfoOf(config, model);
  openedAdapters.set(model, { tensors: adapterTensors(model, att, info.modulesToSave), config: adapterConfig(model, att, info) });
  mergeAndDetach(model, att);
}

/** Writes the adapter a model was opened with (a LoRA run's) into `bundleDir/adapter/`; null for other runs. */
export async function writeOpenedAdapter(model: AnyModel, bundleDir: string): Promise<WrittenAdapter | null> {
  const a = openedAdapters.get(model);
  return a ? writeAdapterFiles(path.join(bundleDir, ADAPTER_DIR), a.tensors, a.config) : null;
}
