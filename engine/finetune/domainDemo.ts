/**
 * The README's domain-adaptation figures, reproduced: a character GPT pretrained briefly on the Brown corpus
 * as one running text (experiments/brown-char-gpt, shortened), then adapted with LoRA to one genre's texts;
 * prints the perplexities before and after (domain_eval.json).
 *
 *   node --import tsx engine/finetune/domainDemo.ts [OUT_DIR] [--genre government] [--pretrain-steps 400] [--steps 200] [--base RUN_DIR]
 *
 * --base adapts an existing run instead of pretraining one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMAIN_EVAL_FILE, DomainEval } from '../../common/domainEval';
import { resolveDerivedRun } from '../training/derivedRun';
import { Trainer } from '../training/trainer';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const out = args[0] && !args[0].startsWith('--') ? path.resolve(args[0]) : fs.mkdtempSync(path.join(os.tmpdir(), 'wb-domain-demo-'));
const genre = flag('genre', 'government');

const experiment = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../experiments/brown-char-gpt.experiment.json'), 'utf8'));
const cells = Object.fromEntries((experiment.cells as { kind: string }[]).map((c) => [c.kind, c])) as Record<string, Record<string, unknown>>;
const data = cells.dataset as { dataset: Record<string, unknown>; tokenizer: Record<string, unknown> };
const started = Date.now();
const pretrain = async () => (await (await Trainer.start({
  name: 'brown char gpt', dataset: data.dataset as never, tokenizer: data.tokenizer as never, model: (cells.model as { model: never }).model,
  pretrain: { ...(cells.pretrain as { pretrain: Record<string, unknown> }).pretrain, steps: Number(flag('pretrain-steps', '400')), evalInterval: 200, evalBatches: 10, checkpointInterval: 1000 } as never,
}, path.join(out, 'runs'), { cacheDir: null })).run()).run_dir;
const baseRun = args.includes('--base') ? path.resolve(flag('base', '')) : await pretrain();

const settings = {
  data: { kind: 'domain', dataset: { source: { kind: 'corpus', corpus: 'brown', as: 'documents', genres: [genre] }, split: 'documents', validationFraction: 0.2 } },
  method: 'lora', lora: { r: 8, alpha: 16, dropout: 0.05, targetModules: ['c_attn', 'c_proj', 'c_fc'] },
  loop: { steps: Number(flag('steps', '200')), batchSize: 12, evalInterval: 100, evalBatches: 10, optimizer: { lr: 3e-3 }, schedule: { warmupSteps: 10, minLr: 3e-4 } },
};
const config = await resolveDerivedRun({ task: 'finetune', baseRunDir: baseRun, baseCheckpoint: 'last', settings });
const trainer = await Trainer.startDerived(config, path.join(out, 'runs'), `lora on ${genre}`, { cacheDir: null, onEvent: (e) => { if (e.type === 'log') console.log(e.message); } });
const run = (await trainer.run()).run_dir;
const ev = DomainEval.parse(JSON.parse(fs.readFileSync(path.join(run, DOMAIN_EVAL_FILE), 'utf8')));
const f = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(2));
console.log(`base ${baseRun}\nadapted ${run}`);
console.log(`in-domain (${genre}, held-out documents) perplexity: ${f(ev.before?.inDomain.perplexity)} → ${f(ev.after?.inDomain.perplexity)}`);
console.log(`out-of-domain (the base's held-out text) perplexity: ${f(ev.before?.outOfDomain?.perplexity)} → ${f(ev.after?.outOfDomain?.perplexity)}`);
console.log(`${((Date.now() - started) / 1000).toFixed(0)} s`);
