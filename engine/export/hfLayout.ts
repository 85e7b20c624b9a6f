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
 *    untrained `bert.pooler.*` and `cls.seq_relationship.*` are left out;
 *  - a fine-tuned classifier (numLabels): BertForSequenceClassification holds BertModel under `bert.` (the
 *    pooler included) and `classifier.*`, none of the pretraining heads (`cls.*`) the engine model still
 *    carries; GPT2ForSequenceClassification holds GPT2Model under `transformer.` and `score.weight` (no
 *    bias) at the top level.
 */
import type { ResolvedModelConfig } from '../../common/modelConfig';
import type { Objective } from '../models/types';
import type { NamedTensor } from '../runs/safetensors';
import type { ParamStore } from '../models/params';

export type HfArchitecture = 'GPT2LMHeadModel' | 'GPT2ForSequenceClassification' | 'BertForPreTraining' | 'BertForMaskedLM' | 'BertForSequenceClassification';

/** A model with numLabels is a sequence classifier, whatever it was pretrained with; otherwise the class follows the objective. */
export function hfArchitecture(c: ResolvedModelConfig, objective: Objective | undefined): HfArchitecture {
  if (c.arch === 'gpt') return c.numLabels === undefined ? 'GPT2LMHeadModel' : 'GPT2ForSequenceClassification';
  if (c.numLabels !== undefined) return 'BertForSequenceClassification';
  return (objective ?? 'mlm-nsp') === 'mlm-nsp' ? 'BertForPreTraining' : 'BertForMaskedLM';
}

export const isClassifierArchitecture = (arch: HfArchitecture): boolean => arch.endsWith('ForSequenceClassification');

const GPT_PREFIX = 'transformer.';
/** GPT2ForSequenceClassification's head, beside `transformer.` */
const GPT_SCORE = 'score.weight';
const LEAVES_OUT: Partial<Record<HfArchitecture, string[]>> = {
  BertForMaskedLM: ['bert.pooler.', 'cls.seq_relationship.'],
  BertForSequenceClassification: ['cls.'],
};
const isGpt = (arch: HfArchitecture) => arch.startsWith('GPT2');

/** The HF name of an engine parameter in `arch`, or null when that class has no such tensor. */
export function hfNameOf(name: string, arch: HfArchitecture): string | null {
  if (isGpt(arch)) return arch === 'GPT2ForSequenceClassification' && name === GPT_SCORE ? name : GPT_PREFIX + name;
  if (LEAVES_OUT[arch]?.some((p) => name.startsWith(p))) return null;
  return name;
}

/** The engine name of a tensor of a bundle written by hfStateDict (the inverse of hfNameOf). */
export function engineNameOf(hfName: string, arch: HfArchitecture): string {
  if (!isGpt(arch)) return hfName;
  if (arch === 'GPT2ForSequenceClassification' && hfName === GPT_SCORE) return hfName;
  if (!hfName.startsWith(GPT_PREFIX)) throw new Error(`'${hfName}' is not a ${arch} tensor (they start with '${GPT_PREFIX}'${arch === 'GPT2LMHeadModel' ? '' : `, or are '${GPT_SCORE}'`})`);
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
