/**
 * `workbench sample RUN_DIR --prompt TEXT …`: text from a causal model, streamed token by token (see
 * ../inspect/sample.ts). The length used is always printed (no silent cap); with --json, one line per
 * sample with its text and tokens/s. Ctrl+C stops after the current token with what came so far (exit 130).
 */
import { parseArgs } from 'node:util';
import { EngineError } from '../../common/errors';
import { SAMPLE_DEFAULTS } from '../../common/sampling';
import { GPT } from '../models/gpt/model';
import { TextStream, generate, windowAfterJump } from '../inspect/sample';
import { numberIn, positiveInt, textInput, usage, wholeNumber } from './args';
import { RUN_MODEL_FLAGS, openRunModel } from './openRun';

export const SAMPLE_USAGE = `  workbench sample RUN_DIR --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S] [--num-samples N] [--json] [--checkpoint last|best|step-N] [--backend NAME]
      text from a GPT run, streamed with a key/value cache; defaults: 200 new tokens, temperature 0.8 (0 = greedy),
      all tokens (top-k 0, top-p 1), seed 1337, 1 sample; the same seed gives the same text`;

// the notebook's sample panel starts from the same values
const DEFAULTS = SAMPLE_DEFAULTS;

export async function sampleCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: {
      ...RUN_MODEL_FLAGS, prompt: { type: 'string' }, 'max-new-tokens': { type: 'string' }, temperature: { type: 'string' },
      'top-k': { type: 'string' }, 'top-p': { type: 'string' }, seed: { type: 'string' }, 'num-samples': { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  if (values.prompt === undefined) usage('sample needs --prompt TEXT, the text the samples continue');
  const prompt = textInput('--prompt', values.prompt, undefined);
  const maxNewTokens = positiveInt('--max-new-tokens', values['max-new-tokens']) ?? DEFAULTS.maxNewTokens;
  const temperature = numberIn('--temperature', values.temperature, 0, 100) ?? DEFAULTS.temperature;
  const topK = wholeNumber('--top-k', values['top-k']);
  const topP = numberIn('--top-p', values['top-p'], 0, 1, true);
  const seed = wholeNumber('--seed', values.seed) ?? DEFAULTS.seed;
  const numSamples = positiveInt('--num-samples', values['num-samples']) ?? DEFAULTS.numSamples;
  const rm = await openRunModel('sample', positionals, values);
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nSIGINT: stopping after this token. Press again to quit at once.\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  try {
    if (!(rm.model instanceof GPT)) throw new EngineError('INVALID_CONFIG', `${rm.runDir} holds a ${rm.model.config.arch} model, which does not generate text; sample needs a GPT run (for a BERT run use fill-mask)`);
    const model = rm.model;
    const C = model.config.contextLength;
    const promptIds = rm.tokenizer.encode(prompt);
    if (promptIds.length === 0) usage('--prompt has no tokens; give a prompt of at least one token');
    process.stderr.write(`sampling ${numSamples} × ${maxNewTokens} new tokens after a prompt of ${promptIds.length} tokens from checkpoint ${rm.checkpoint.name} (step ${rm.checkpoint.step}); `
      + `context ${C} tokens${promptIds.length + maxNewTokens > C ? `: beyond it the model sees the last ${windowAfterJump(C)}–${C}` : ''}\n`);
    for (let s = 0; s < numSamples && !controller.signal.aborted; s++) {
      const ids: number[] = [];
      const stream = new TextStream((x) => rm.tokenizer.decode(x));
      if (!values.json) process.stdout.write(prompt);
      const r = await generate(model, promptIds, {
        maxNewTokens, temperature, topK, topP, seed: seed + s, signal: controller.signal,
        onToken: (id) => { ids.push(id); if (!values.json) process.stdout.write(stream.push(ids)); },
      });
      const text = rm.tokenizer.decode(r.ids);
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ sample: s, seed: seed + s, prompt, new_tokens: r.ids.length, stopped: r.stopped, text, tokens_per_s: r.tokensPerSecond })}\n`);
      } else {
        process.stdout.write(`${stream.end(ids)}\n`);
        process.stderr.write(`[sample ${s + 1}/${numSamples}: ${r.ids.length} tokens, ${r.tokensPerSecond.toFixed(1)} tokens/s${r.stopped ? ', stopped' : ''}]\n`);
      }
    }
    return controller.signal.aborted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    rm.model.dispose();
  }
}
