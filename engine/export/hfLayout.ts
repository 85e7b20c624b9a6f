/**
 * The engine's parameters as a Hugging Face model.safetensors. The engine already keeps HF's names and
 * layouts (GPT-2's Conv1D weights [in, out], BERT's nn.Linear [out, in]; ../models/params.ts), so what is
 * left is the model class's view of them:
 *  - GPT2LMHeadModel holds GPT2Model under `transformer.`; its lm_head.weight is the embedding table, and
 *    save_pretrained writes tied tensors once (safetensors refuses shared storage), so only
 *    `transformer.wte.weight` is written, as HF does;
 *  - BertForPreTraining (a run trained with mlm-nsp) holds everything under the engine's names; its
 *    decoder (`cls.predictions.decoder.weight` / `.bias`) is tied to the word embeddings and to
 *    `cls.predictions.bias`, so neither is written;
 *  - BertForMaskedLM (a run trained with mlm alone) has no pooler and no next-sentence head: the engine's
 *    untrained `bert.pooler.*` and `cls.seq_relationship.*` are left out.
 */
import type { ResolvedModelConfig } from '../../common/modelConfig';
import type { Objective } from '../models/types';
import type { NamedTensor } from '../runs/safetensors';
import type { ParamStore } from '../models/params';

export type HfArchitecture = 'GPT2LMHeadModel' | 'BertForPreTraining' | 'BertForMaskedLM';

export function hfArchitecture(c: ResolvedModelConfig, objective: Objective | undefined): HfArchitecture {
  if (c.arch === 'gpt') return 'GPT2LMHeadModel';
  return (objective ?? 'mlm-nsp') === 'mlm-nsp' ? 'BertForPreTraining' : 'BertForMaskedLM';
}

const GPT_PREFIX = 'transformer.';
const MASKED_LM_LEAVES_OUT = ['bert.pooler.', 'cls.seq_relationship.'];

/** The HF name of an engine parameter in `arch`, or null when that class has no such tensor. */
export function hfNameOf(name: string, arch: HfArchitecture): string | null {
  if (arch === 'GPT2LMHeadModel') return GPT_PREFIX + name;
  if (arch === 'BertForMaskedLM' && MASKED_LM_LEAVES_OUT.some((p) => name.startsWith(p))) return null;
  return name;
}

/** The engine name of a tensor of a bundle written by hfStateDict (the inverse of hfNameOf). */
export function engineNameOf(hfName: string, arch: HfArchitecture): string {
  if (arch !== 'GPT2LMHeadModel') return hfName;
  if (!hfName.startsWith(GPT_PREFIX)) throw new Error(`'${hfName}' is not a GPT2LMHeadModel tensor (they start with '${GPT_PREFIX}')`);
  return hfName.slice(GPT_PREFIX.length);
}

/** The tensors of model.safetensors, in the model's parameter order, each written once. */
export function hfStateDict(params: ParamStore, arch: HfArchitecture): NamedTensor[] {
  const out: NamedTensor[] = [];
  for (const spec of params.specs) {
    const name = hfNameOf(spec.name, arch);
    if (name === null) continue;
    const v = params.get(spec.name);
    out.push({ name, dtype: 'F32', shape: [...v.shape], data: v.dataSync() as Float32Array });
  }
  return out;
}
