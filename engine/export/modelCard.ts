/**
 * The bundle's README.md: a Hugging Face model card (YAML front matter, then prose and tables) that says
 * what the model is, what it was trained on and how, how far, on which backend, what was done to it after
 * (compression), what it is for and not for, and how the exported files compared with the in-app model.
 */
import type { ResolvedModelConfig } from '../../common/modelConfig';
import type { RunModel } from '../runs/loadRunModel';
import type { ClassifierFacts } from './classifierLabels';
import type { HfArchitecture } from './hfLayout';
import type { VerificationReport } from './verify';

export interface CardFacts {
  rm: RunModel;
  config: ResolvedModelConfig;
  architecture: HfArchitecture;
  /** a fine-tuned classifier's labels and last evaluation; null for a language model */
  classifier: ClassifierFacts | null;
  /** the size of a LoRA run's adapter written into adapter/ beside the merged model; null for other runs */
  adapterBytes: number | null;
  /** the last train/loss and val/loss logged at or before the checkpoint's step */
  losses: { train: number | null; val: number | null };
  report: VerificationReport;
  exportedAt: string;
  /** the backend the export's engine ran on */
  exportBackend: string;
}

const json = (v: unknown) => `\`${JSON.stringify(v)}\``;
const num = (v: number | null, digits = 4) => (v === null || !Number.isFinite(v) ? 'not logged' : v.toFixed(digits));

export function modelCard(f: CardFacts): string {
  const { rm, config: c, architecture, classifier } = f;
  const gpt = c.arch === 'gpt';
  const pipeline = classifier ? 'text-classification' : gpt ? 'text-generation' : 'fill-mask';
  const params = [...rm.model.params.variables.values()].reduce((n, v) => n + v.size, 0);
  const rows = f.report.checks.map((k) => `| \`${k.file}\` | ${k.runtime} | ${k.relError.toExponential(2)} | ${k.tolerance} | ${k.ok ? 'pass' : 'FAIL'} |`);
  const what = classifier
    ? `${gpt ? 'GPT-2 style' : 'BERT style'} sequence classifier (${classifier.labels.length} labels, ${gpt ? 'read from the last real token' : 'read from the pooled [CLS] token'})`
    : gpt ? 'GPT-2 style causal language model' : 'BERT style masked language model';
  const how = rm.config.task === 'import' ? 'imported into' : rm.config.task === 'finetune' ? 'fine-tuned in' : rm.config.task === 'compress' ? 'compressed in' : 'pretrained in';
  const onnxIo = classifier
    ? `inputs \`input_ids\`, \`attention_mask\`${gpt ? '' : ', `token_type_ids`'}, dynamic batch and sequence axes; output \`logits\` [batch_size, ${classifier.labels.length}], one per label in config.json's \`id2label\` order`
    : `inputs \`input_ids\`, \`attention_mask\`${gpt ? ', `position_ids`, the key/value cache' : ', `token_type_ids`'}, dynamic batch and sequence axes; output \`logits\`${gpt ? ' and the updated cache' : ' of the masked-LM head'}`;
  const floatParts = classifier ? (gpt ? 'embeddings, norms and the score head' : 'embeddings and norms') : 'embeddings, norms and the tied LM head';
  return `---
library_name: transformers.js
pipeline_tag: ${pipeline}
tags: [${gpt ? 'gpt2' : 'bert'}, onnx, safetensors, transformer-workbench${classifier ? ', text-classification' : ''}]
---

# ${rm.run.name} — ${architecture}

A ${what} of ${params.toLocaleString('en-US')} parameters, ${how}
Transformer Workbench (run \`${rm.run.id}\`, checkpoint \`${rm.checkpoint.name}\`) and exported on ${f.exportedAt}.

| file | what |
| --- | --- |
| \`model.safetensors\` | float32 weights under Hugging Face's ${architecture} names and layouts (tied weights written once) |
| \`config.json\` | the ${gpt ? 'GPT2Config' : 'BertConfig'}: ${c.nLayers} layers, width ${c.dModel}, ${c.nHeads} heads, feed-forward ${c.dFF}, context ${c.contextLength}, vocabulary ${c.vocabSize}${classifier ? `; the labels as \`id2label\` / \`label2id\`, \`problem_type\` single_label_classification${gpt ? ', `pad_token_id` (by which GPT2ForSequenceClassification finds the last real token)' : ''}` : ''} |
| \`tokenizer.json\`, \`tokenizer_config.json\`, \`special_tokens_map.json\` | the run's ${rm.tokenizer.kind} tokenizer${gpt && !classifier ? '\n| `generation_config.json` | defaults for generation |' : ''} |
${f.adapterBytes !== null ? `| \`adapter/adapter_model.safetensors\`, \`adapter/adapter_config.json\` | the LoRA adapter (${f.adapterBytes.toLocaleString('en-US')} bytes) as PEFT saves it, already merged into \`model.safetensors\`; load it over the base with PEFT to switch adapters |\n` : ''}| \`onnx/model.onnx\` | float32 ONNX (opset 17; ${onnxIo}) |
| \`onnx/model_quantized.onnx\` | the same with int8 projections (MatMulInteger): weights int8 with one scale per output channel, activations int8 with one scale per token, chosen per call; ${floatParts} float32 |

${classifier ? taskSection(classifier) : ''}${origin(f)}## Compression

None: the weights are the checkpoint's float32 values. \`onnx/model_quantized.onnx\` is a post-training int8 rendering made at export (no calibration, no quantization-aware training); its accuracy is in the verification below.

## Intended use

${classifier
    ? `Study and teaching: how far a small pretrained ${gpt ? 'causal' : 'masked'} language model carries to a classification task once fine-tuned, comparing full fine-tuning, LoRA and training from scratch; and as a test model for tools that load Hugging Face sequence classifiers (transformers, transformers.js, onnxruntime).`
    : `Study and teaching: looking at what a small ${gpt ? 'causal' : 'masked'} language model learned from this corpus, comparing runs, and as a test model for tools that load Hugging Face bundles (transformers, transformers.js, onnxruntime).`}

## Limits

- A small model trained briefly on ${classifier ? 'one task' : 'one corpus'}: its ${classifier ? 'labels reflect that task\'s data' : gpt ? 'text reflects that corpus' : 'predictions reflect that corpus'} and its biases, and it is not fit for any decision about people or for production use.
- Inputs longer than ${c.contextLength} tokens are not supported (learned positions end there).
${classifier
    ? `- The ONNX graphs take positions 0 … T-1: pad on the right${gpt ? '; the class is read at each row\'s last token with attention_mask 1' : ''}.${gpt && rm.tokenizer.specialIds.pad === undefined ? '\n- The tokenizer has no [PAD] token, so `pad_token_id` is null: transformers\' GPT2ForSequenceClassification then classifies one unpadded text per call (the ONNX graphs read `attention_mask` and take padded batches).' : ''}`
    : gpt
      ? '- The ONNX graphs take `position_ids` and a key/value cache (`past_key_values.<layer>.key|value` in, `present.<layer>.key|value` out) as transformers.js\' generate() feeds them.'
      : '- The ONNX graphs hold the masked-LM head with positions 0 … T-1 (pad on the right); the next-sentence head is in `model.safetensors` only.'}

## Verification

At export the bundle was read back and run on a fixed probe (batch ${f.report.probe.batch}, ${f.report.probe.length} tokens per row, ids from seed ${f.report.probe.seed}, ${f.report.probe.padded}${gpt ? '' : ', second half as segment B'}); its ${classifier ? 'class ' : ''}logits were compared with the in-app model's (the engine on ${f.exportBackend}) as max |a − b| / max |b|:

| file | run by | relative error | tolerance | result |
| --- | --- | --- | --- | --- |
${rows.join('\n')}

The int8 tolerance allows for weights rounded to 1/254 of each output channel's range and activations to 1/254 of each token's range in every projection.
`;
}

/** A classifier's labels, in logit order, and its last evaluation on the test split where the run folder has one. */
function taskSection({ labels, report }: ClassifierFacts): string {
  const figures = report
    ? `On its test split, at step ${report.step} (the run's last evaluation, ${report.examples} of ${report.testExamples} test examples): accuracy ${report.accuracy.toFixed(4)}, macro-F1 ${report.macroF1.toFixed(4)}.

| label | precision | recall | F1 | support |
| --- | --- | --- | --- | --- |
${report.perClass.map((k) => `| ${k.label} | ${k.precision.toFixed(3)} | ${k.recall.toFixed(3)} | ${k.f1.toFixed(3)} | ${k.support} |`).join('\n')}`
    : 'No evaluation of its own is in the run folder: accuracy and macro-F1 are not stated.';
  return `## Task

Single-label classification over ${labels.length} labels (id: label): ${labels.map((l, i) => `${i}: ${json(l)}`).join(', ')}.

${figures}

`;
}

/** Where the weights came from: a pretraining run's data, recipe and training, or the folder a model was imported from. */
function origin(f: CardFacts): string {
  const { rm, config: c } = f;
  const b = rm.run.backend;
  if (rm.config.task === 'import') {
    const src = rm.config.source;
    return `## Source

Imported with \`workbench import\` from a Hugging Face ${src.modelType} checkpoint folder (${src.architecture}), not trained here:

| file | bytes | SHA-256 |
| --- | --- | --- |
${src.files.map((x) => `| \`${x.file}\` | ${x.bytes.toLocaleString('en-US')} | \`${x.sha256}\` |`).join('\n')}
${rm.config.notes.length ? `\n${rm.config.notes.map((n) => `- ${n}`).join('\n')}\n` : ''}
`;
  }
  if (rm.config.task !== 'pretrain') {
    const { base } = rm.config;
    const how = rm.config.task === 'finetune' ? `fine-tuned (${rm.config.finetune.method}) on ${json(rm.config.finetune.data)}` : `compressed by ${rm.config.compress.method}: ${json(rm.config.compress)}`;
    return `## Source

Derived from run \`${base.runId}\`, checkpoint \`${base.checkpoint}\` (step ${base.step}), in \`${base.runDir}\`: ${how}.

- model: ${json(rm.config.model)}

`;
  }
  const spec = rm.config.spec;
  const objective = spec.pretrain.objective ?? (c.arch === 'gpt' ? 'causal-lm' : 'mlm-nsp');
  return `## Data and its cleaning

- source: ${json(spec.dataset.source)}
- cleaning: ${json(spec.dataset.cleaning)}
- split: ${json({ split: spec.dataset.split, validationFraction: spec.dataset.validationFraction, seed: spec.dataset.seed })}
- tokenizer: ${json(spec.tokenizer)} (${rm.tokenizer.vocabSize} tokens)

## Recipe

- model: ${json(spec.model)}
- objective: ${objective}
- optimizer: ${json(spec.pretrain.optimizer)}, schedule ${json(spec.pretrain.schedule)}, gradient clipping ${spec.pretrain.clipNorm}
- batch: ${spec.pretrain.batchSize} sequences × ${spec.pretrain.gradAccumSteps} accumulation steps, sequence length ${spec.pretrain.seqLen ?? c.contextLength}; seed ${spec.pretrain.seed}

## Training

- steps: ${rm.checkpoint.step} of ${spec.pretrain.steps} planned (the run is ${rm.run.status}; ${rm.run.tokensSeen.toLocaleString('en-US')} tokens seen by its last update)
- final losses at the exported checkpoint: train ${num(f.losses.train)}, validation ${num(f.losses.val)}${rm.checkpoint.valLoss !== null ? ` (checkpoint's validation loss ${num(rm.checkpoint.valLoss)})` : ''}
- backend: ${b.name} (${b.package} ${b.version}, ${b.device}, ${b.threads} thread${b.threads === 1 ? '' : 's'}), float32 training

`;
}
