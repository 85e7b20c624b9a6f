/**
 * `workbench attention RUN_DIR (--text TEXT | --text-file F) [--pair TEXT_B] --out FILE.json`: the attention
 * maps of one input at a checkpoint, with the per-head statistics (common/attentionMaps.ts AttentionFile).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../../common/node/atomicWrite';
import { attentionFile, attentionFileBytes, encodeInput } from '../inspect/attentionMaps';
import { textInput, usage } from './args';
import { RUN_MODEL_FLAGS, openRunModel } from './openRun';

export const ATTENTION_USAGE = `  workbench attention RUN_DIR (--text TEXT | --text-file FILE) [--pair TEXT_B] --out FILE.json [--checkpoint last|best|step-N] [--backend NAME] [--json]
      write the attention maps [layer][head][query][key] of the text at a checkpoint, with per-head statistics;
      --pair gives a BERT model a second segment (token types 1); the text's tokens must fit the model's context`;

/** Linear attention has no softmax matrix; what the file holds instead is said, not left to be guessed. */
const LINEAR_NOTE = 'this model uses linear attention, which has no softmax matrix: the maps are the weights it implies, φ(q)·φ(k) with φ = elu + 1 over the visible keys, normalised per query (its output is exactly these weights times the values)\n';

export async function attentionCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { ...RUN_MODEL_FLAGS, text: { type: 'string' }, 'text-file': { type: 'string' }, pair: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const text = textInput('--text', values.text, values['text-file']);
  if (values.pair !== undefined) textInput('--pair', values.pair, undefined);
  if (values.out === undefined) usage('attention needs --out FILE.json, where the maps are written');
  const rm = await openRunModel('attention', positionals, values);
  try {
    const input = encodeInput(rm.tokenizer, rm.model.config, text, values.pair);
    const file = attentionFile(rm, input);
    const out = path.resolve(values.out);
    await writeFileAtomic(out, attentionFileBytes(file));
    const summary = { out, checkpoint: file.checkpoint, step: file.step, tokens: input.ids.length, contextLength: rm.model.config.contextLength, layers: file.attentions.length, heads: rm.model.config.nHeads };
    process.stdout.write(values.json ? `${JSON.stringify(summary)}\n`
      : `${out}: ${summary.layers} layers × ${summary.heads} heads over ${summary.tokens} tokens (context ${summary.contextLength}), checkpoint ${summary.checkpoint} (step ${summary.step})\n`);
    if (rm.model.config.attention === 'linear') process.stderr.write(LINEAR_NOTE);
    return 0;
  } finally {
    rm.model.dispose();
  }
}
