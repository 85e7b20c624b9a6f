/** `workbench fill-mask RUN_DIR --text "… [MASK] …"`: a BERT run's top-k tokens and probabilities at every [MASK]. */
import { parseArgs } from 'node:util';
import { EngineError } from '../../common/errors';
import { encodeInput } from '../inspect/attentionMaps';
import { fillMask } from '../inspect/fillMask';
import { BERT } from '../models/bert/model';
import { positiveInt, textInput } from './args';
import { RUN_MODEL_FLAGS, openRunModel } from './openRun';

export const FILL_MASK_USAGE = `  workbench fill-mask RUN_DIR (--text TEXT | --text-file FILE) [--pair TEXT_B] [--top-k K] [--json] [--checkpoint last|best|step-N] [--backend NAME]
      the k most likely tokens (default 5) and their probabilities at each [MASK] of the text, for a BERT run`;

export async function fillMaskCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { ...RUN_MODEL_FLAGS, text: { type: 'string' }, 'text-file': { type: 'string' }, pair: { type: 'string' }, 'top-k': { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const text = textInput('--text', values.text, values['text-file']);
  const topK = positiveInt('--top-k', values['top-k']) ?? 5;
  const rm = await openRunModel('fill-mask', positionals, values);
  try {
    if (!(rm.model instanceof BERT)) throw new EngineError('INVALID_CONFIG', `${rm.runDir} holds a ${rm.model.config.arch} model, which has no masked-LM head; fill-mask needs a BERT run (for a GPT run use sample)`);
    const input = encodeInput(rm.tokenizer, rm.model.config, text, values.pair);
    const fills = fillMask(rm.model, rm.tokenizer, input, topK);
    for (const [m, f] of fills.entries()) {
      if (values.json) { process.stdout.write(`${JSON.stringify({ mask: m, ...f })}\n`); continue; }
      process.stdout.write(`[MASK] ${m + 1} (position ${f.position}):\n${f.candidates.map((c) => `  ${c.token.padEnd(16)} ${c.probability.toFixed(4)}`).join('\n')}\n`);
    }
    return 0;
  } finally {
    rm.model.dispose();
  }
}
