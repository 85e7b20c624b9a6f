/** Tiny trained runs (a character GPT and a WordPiece BERT on a slice of Shakespeare) for the inspect tests. */
import fs from 'node:fs';
import path from 'node:path';
import { DatasetConfig } from '../../common/datasetConfig';
import type { ModelConfigInput } from '../../common/modelConfig';
import { PretrainConfig, type PretrainConfigInput } from '../../common/pretrainConfig';
import { TokenizerConfig, type TokenizerConfigInput } from '../../common/tokenizerConfig';
import { Trainer, type TrainerOptions } from '../training/trainer';

const SHAKESPEARE = path.resolve(import.meta.dirname, '../../../shared/data/tinyshakespeare.txt');

const dataset = { source: { kind: 'file', path: 'small.txt', unit: 'paragraph' }, split: 'tail', cleaning: { stripHtml: false, normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } } as const;

export const TINY_GPT = { arch: 'gpt', contextLength: 24, dModel: 16, nHeads: 2, nLayers: 2 } as const satisfies Omit<ModelConfigInput, 'vocabSize'>;
export const TINY_BERT = { arch: 'bert', contextLength: 24, dModel: 16, nHeads: 2, nLayers: 2, dFF: 32 } as const satisfies Omit<ModelConfigInput, 'vocabSize'>;

/** Trains a run of a few steps in `dir` (made if missing), or stops it after step `stopAt`, and returns its folder. */
export async function tinyRun(dir: string, model: Omit<ModelConfigInput, 'vocabSize'>, o: { tokenizer?: TokenizerConfigInput; pretrain?: PretrainConfigInput; onEvent?: TrainerOptions['onEvent']; stopAt?: number } = {}): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const text = path.join(dir, 'small.txt');
  if (!fs.existsSync(text)) fs.writeFileSync(text, fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 30_000));
  const trainer = await Trainer.start({
    name: 'tiny', dataset: DatasetConfig.parse(dataset), tokenizer: TokenizerConfig.parse(o.tokenizer ?? { kind: 'char' }), model,
    pretrain: PretrainConfig.parse({ steps: 6, batchSize: 4, evalBatches: 1, evalInterval: 3, seed: 3, schedule: { warmupSteps: 1 }, ...(model.arch === 'bert' ? { objective: 'mlm' } : {}), ...o.pretrain }),
  }, path.join(dir, 'runs'), {
    baseDir: dir, cacheDir: null,
    onEvent: (e) => { o.onEvent?.(e); if (e.type === 'step' && e.step === o.stopAt) trainer.stop(); },
  });
  const summary = await trainer.run();
  if (summary.status !== (o.stopAt ? 'cancelled' : 'completed')) throw new Error(`the tiny run did not complete: ${JSON.stringify(summary.error)}`);
  return summary.run_dir;
}

export const tinyBertTokenizer: TokenizerConfigInput = { kind: 'wordpiece', vocabSize: 300 };
