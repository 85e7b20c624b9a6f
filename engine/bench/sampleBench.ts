/**
 * `npm run bench:sample`: tokens/s of sampling with and without the key/value cache, in the same process on
 * the same model (the same tokens come out: the cache changes only the work), printed as a ratio. The model
 * is a run's (RUN_DIR) or, without one, the reference GPT of `npm run bench` (gpt-char-small) with random weights.
 * The last line printed is one JSON object.
 *
 *   npm run bench:sample -- [RUN_DIR] [--tokens N] [--backend NAME] [--rounds N]
 */
import { parseArgs } from 'node:util';
import { BackendRequest } from '../../common/backends';
import { MODEL_PRESETS } from '../../common/modelConfig';
import { selectBackend } from '../backends/select';
import type { GPT } from '../models/gpt/model';
import { createModel } from '../models/registry';
import { generate } from '../inspect/sample';
import { loadRunModel } from '../runs/loadRunModel';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { tokens: { type: 'string', default: '256' }, backend: { type: 'string', default: 'wasm' }, rounds: { type: 'string', default: '2' } } });
const backend = await selectBackend(BackendRequest.parse(values.backend));
const tokens = Number(values.tokens);
const rm = positionals[0] ? await loadRunModel(positionals[0]) : null;
const model = (rm?.model ?? createModel(MODEL_PRESETS['gpt-char-small'], 1)) as GPT;
const prompt = rm ? rm.tokenizer.encode('\n') : [0];
const opts = { maxNewTokens: tokens, temperature: 1, seed: 1 };

// warm-up: kernels compiled and memory allocated before either is timed
await generate(model, prompt, { ...opts, maxNewTokens: 8 });
await generate(model, prompt, { ...opts, maxNewTokens: 8, useCache: false });
const best = { cached: 0, full: 0 };
let same = true;
for (let r = 0; r < Number(values.rounds); r++) {
  const a = await generate(model, prompt, opts);
  const b = await generate(model, prompt, { ...opts, useCache: false });
  same &&= a.ids.join() === b.ids.join();
  best.cached = Math.max(best.cached, a.tokensPerSecond);
  best.full = Math.max(best.full, b.tokensPerSecond);
}
const c = model.config;
console.log(`${tokens} new tokens, model ${c.nLayers} layers × ${c.dModel} wide, context ${c.contextLength}, on ${backend.name}: `
  + `${best.cached.toFixed(0)} tokens/s with the cache, ${best.full.toFixed(0)} without (best of ${values.rounds}); the same tokens: ${same}`);
console.log(JSON.stringify({ backend: backend.name, model: rm ? rm.runDir : 'gpt-char-small (random weights)', new_tokens: tokens, context: c.contextLength,
  cached_tokens_per_s: best.cached, uncached_tokens_per_s: best.full, ratio: best.cached / best.full, same_tokens: same }));
model.dispose();
if (!same) process.exitCode = 1;
