/** Domain-adaptation runs (LoRA or full) over tiny bases (engine/inspect/tinyRuns.testing.ts), for the fine-tuning tests. */
import fs from 'node:fs';
import path from 'node:path';
import type { FinetuneConfigInput, LoraConfig } from '../../common/finetuneConfig';
import type { RunEvent } from '../../common/runEvents';
import { resolveDerivedRun } from '../training/derivedRun';
import { Trainer } from '../training/trainer';

/** New text in the base's characters, unlike Shakespeare: a ship's log of a few phrasings, learnable quickly. */
const PHRASES = ['the ship sails at dawn', 'the sea is calm', 'the wind turns west', 'we sight land at noon', 'the crew is well'];
export const DOMAIN_TEXT = Array.from({ length: 160 }, (_, i) => Array.from({ length: 4 }, (_, j) => `${PHRASES[(i * 3 + j * 7) % PHRASES.length]}.`).join(' ')).join('\n\n');
const dataset = { source: { kind: 'file', path: 'domain.txt', unit: 'paragraph' }, split: 'documents', cleaning: { stripHtml: false, normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } };

/** Trains a domain run over `baseRun` on DOMAIN_TEXT (written into `dir`) with LoRA (or, given 'full', every weight), or stops it after step `stopAt`; returns its folder. */
export async function loraDomainRun(dir: string, baseRun: string, lora: Partial<LoraConfig> | 'full', loop: FinetuneConfigInput['loop'], onEvent?: (e: RunEvent) => void, stopAt?: number): Promise<string> {
  fs.writeFileSync(path.join(dir, 'domain.txt'), DOMAIN_TEXT);
  const method = lora === 'full' ? { method: 'full' as const } : { method: 'lora' as const, lora };
  const settings: FinetuneConfigInput = { data: { kind: 'domain', dataset: dataset as never, baseDir: dir }, ...method, loop };
  const config = await resolveDerivedRun({ task: 'finetune', baseRunDir: baseRun, baseCheckpoint: 'last', settings });
  const trainer = await Trainer.startDerived(config, path.join(dir, 'runs'), 'domain', {
    cacheDir: null, onEvent: (e) => { onEvent?.(e); if (e.type === 'step' && e.step === stopAt) trainer.stop(); },
  });
  const summary = await trainer.run();
  if (summary.status !== (stopAt ? 'cancelled' : 'completed')) throw new Error(`the LoRA domain run did not complete: ${JSON.stringify(summary.error)}`);
  return summary.run_dir;
}
