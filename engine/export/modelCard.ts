/**
 * The bundle's README.md: a Hugging Face model card (YAML front matter, then prose and tables) that says
 * what the model is, what it was trained on and how, how far, on which backend, what was done to it after
 * (compression), what it is for and not for, and how the exported files compared with the in-app model.
 */
import type { ResolvedModelConfig } from '../../common/modelConfig';
import type { RunModel } from '../runs/loadRunModel';
import type { HfArchitecture } from './hfLayout';
import type { VerificationReport } from './verify';

export interface CardFacts {
  rm: RunModel;
  config: ResolvedModelConfig;
  architecture: HfArchitecture;
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
  const { rm, config: c, architecture } = f;
  const pipeline = c.arch === 'gpt' ? 'text-generation' : 'fill-mask';
  const params = [...rm.model.params.variables.values()].reduce((n, v) => n + v.size, 0);
  const rows = f.report.checks.map((k) => `| \`${k.file}\` | ${k.runtime} | ${k.relError.toExponential(2)} | ${k.tolerance} | ${k.ok ? 'pass' : 'FAIL'} |`);
  return `---
library_name: transformers.js
pipeline_tag: ${pipeline}
tags: [${c.arch === 'gpt' ? 'gpt2' : 'bert'}, onnx, safetensors, transformer-workbench]
---

# ${rm.run.name} — ${architecture}

A ${c.arch === 'gpt' ? 'GPT-2 style causal language model' : 'BERT style masked language model'} of ${params.toLocaleString('en-US')} parameters, ${rm.config.task === 'import' ? 'imported into' : 'pretrained in'}
Transformer Workbench (run \`${rm.run.id}\`, checkpoint \`${rm.checkpoint.name}\`) and exported on ${f.exportedAt}.

| file | what |
| --- | --- |
| \`model.safetensors\` | float32 weights under Hugging Face's ${architecture} names and layouts (tied weights written once) |
| \`config.json\` | the ${c.arch === 'gpt' ? 'GPT2Config' : 'BertConfig'}: ${c.nLayers} layers, width ${c.dModel}, ${c.nHeads} heads, feed-forward ${c.dFF}, context ${c.contextLength}, vocabulary ${c.vocabSize} |
| \`tokenizer.json\`, \`tokenizer_config.json\`, \`special_tokens_map.json\` | the run's ${rm.tokenizer.kind} tokenizer${c.arch === 'gpt' ? '\n| `generation_config.json` | defaults for generation |' : ''} |
| \`onnx/model.onnx\` | float32 ONNX (opset 17; inputs \`input_ids\`, \`attention_mask\`${c.arch === 'bert' ? ', `token_type_ids`' : ', `position_ids`, the key/value cache'}, dynamic batch and sequence axes; output \`logits\`${c.arch === 'bert' ? ' of the masked-LM head' : ' and the updated cache'}) |
| \`onnx/model_quantized.onnx\` | the same with int8 projections (MatMulInteger): weights int8 with one scale per output channel, activations int8 with one scale per token, chosen per call; embeddings, norms and the tied LM head float32 |

${origin(f)}## Compression

None: the weights are the checkpoint's float32 values. \`onnx/model_quantized.onnx\` is a post-training int8 rendering made at export (no calibration, no quantization-aware training); its accuracy is in the verification below.

## Intended use

Study and teaching: looking at what a small ${c.arch === 'gpt' ? 'causal' : 'masked'} language model learned from this corpus, comparing runs, and as a test model for tools that load Hugging Face bundles (transformers, transformers.js, onnxruntime).

## Limits

- A small model trained briefly on one corpus: its ${c.arch === 'gpt' ? 'text reflects' : 'predictions reflect'} that corpus and its biases, and it is not fit for any decision about people or for production use.
- Inputs longer than ${c.contextLength} tokens are not supported (learned positions end there).
${c.arch === 'gpt'
    ? '- The ONNX graphs take `position_ids` and a key/value cache (`past_key_values.<layer>.key|value` in, `present.<layer>.key|value` out) as transformers.js\' generate() feeds them.'
    : '- The ONNX graphs hold the masked-LM head with positions 0 … T-1 (pad on the right); the next-sentence head is in `model.safetensors` only.'}

## Verification

At export the bundle was read back and run on a fixed probe (batch ${f.report.probe.batch}, ${f.report.probe.length} tokens per row, ids from seed ${f.report.probe.seed}, ${f.report.probe.padded}${c.arch === 'bert' ? ', second half as segment B' : ''}); its logits were compared with the in-app model's (the engine on ${f.exportBackend}) as max |a − b| / max |b|:

| file | run by | relative error | tolerance | result |
| --- | --- | --- | --- | --- |
${rows.join('\n')}

The int8 tolerance allows for weights rounded to 1/254 of each output channel's range and activations to 1/254 of each token's range in every projection.
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
