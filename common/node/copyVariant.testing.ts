/**
 * A variant that is an exact copy of its base, written as a derived run folder is (a CompressRunConfig
 * run.json naming the base, the base's tokenizer and checkpoints): what the host's and the browser's tests of
 * the comparison measure when no compression method has made a real variant. Its figures are known: KL 0,
 * top-1 agreement 1, the base's loss.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CompressConfig } from '../compressConfig';
import { ModelConfig } from '../modelConfig';
import { parseRunConfig, runModelConfig, type CompressRunConfig } from '../runConfig';
import { readRunJson, RUN_JSON, TOKENIZER_FILE, CHECKPOINTS_DIR } from './runFiles';

/** The vocabulary of a tokenizer.json: one past its largest id. */
function vocabOf(tokenizerFile: string): number {
  const t = JSON.parse(fs.readFileSync(tokenizerFile, 'utf8')) as { model?: { vocab?: Record<string, number> | [string, number][] }; added_tokens?: { id: number }[] };
  const vocab = t.model?.vocab ?? {};
  const ids = [...(Array.isArray(vocab) ? vocab.map((_, i) => i) : Object.values(vocab)), ...(t.added_tokens ?? []).map((a) => a.id)];
  return Math.max(-1, ...ids) + 1;
}

export async function writeCopyVariant(baseRunDir: string, id: string): Promise<string> {
  const base = path.resolve(baseRunDir);
  const json = await readRunJson(base);
  const config = parseRunConfig(json.config, path.join(base, RUN_JSON));
  if (config.task !== 'pretrain') throw new Error(`${base}: the copy fixture starts from a pretraining run`);
  if (!json.lastCheckpoint) throw new Error(`${base}: has no checkpoint to copy`);
  const model = ModelConfig.parse(runModelConfig(config.spec.model, vocabOf(path.join(base, TOKENIZER_FILE))));
  const variant: CompressRunConfig = {
    task: 'compress', model, compress: CompressConfig.parse({ method: 'prune', kind: 'magnitude' }),
    base: { runDir: base, runId: json.id, checkpoint: json.lastCheckpoint, step: json.step, objective: config.spec.pretrain.objective },
  };
  const dir = path.join(path.dirname(base), id);
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(base, TOKENIZER_FILE), path.join(dir, TOKENIZER_FILE));
  fs.cpSync(path.join(base, CHECKPOINTS_DIR, json.lastCheckpoint), path.join(dir, CHECKPOINTS_DIR, json.lastCheckpoint), { recursive: true });
  fs.writeFileSync(path.join(dir, RUN_JSON), JSON.stringify({ ...json, id, name: `copy of ${json.id}`, status: 'completed', config: variant }, null, 2));
  return dir;
}
