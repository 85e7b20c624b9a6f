/**
 * The adapters trained over one base run: every LoRA fine-tuning run beside it (the same runs folder) whose
 * base is it. Each is one adapter; `workbench adapters --merge NAME` exports the base with that one merged,
 * and peftFiles.ts `loadAdapter` switches a base model opened once from one adapter to another.
 */
import path from 'node:path';
import { listRuns } from '../../../common/node/runFiles';
import { parseRunConfig } from '../../../common/runConfig';
import type { RunJson } from '../../../common/runFolder';

export interface AdapterListing {
  /** the LoRA run's id, the adapter's name */
  name: string;
  runDir: string;
  runName: string;
  status: RunJson['status'];
  step: number;
  bestValLoss: number | null;
  r: number;
  alpha: number;
  targets: string[];
  /** what it was fine-tuned on */
  data: string;
}

/** The LoRA runs whose base is `baseRunDir`, oldest first; runs that cannot be read are left out. */
export async function listAdapters(baseRunDir: string): Promise<AdapterListing[]> {
  const base = path.resolve(baseRunDir);
  const out: AdapterListing[] = [];
  for (const r of await listRuns(path.dirname(base))) {
    if (!r.ok) continue;
    let config;
    try { config = parseRunConfig(r.run.config, r.dir); } catch { continue; }
    if (config.task !== 'finetune' || config.finetune.method !== 'lora' || path.resolve(config.base.runDir) !== base) continue;
    const { lora, data } = config.finetune;
    out.push({
      name: r.id, runDir: r.dir, runName: r.run.name, status: r.run.status, step: r.run.step, bestValLoss: r.run.bestValLoss ?? null,
      r: lora.r, alpha: lora.alpha, targets: lora.targetModules ?? ['(default)'], data: data.kind === 'domain' ? 'domain text' : data.kind,
    });
  }
  return out;
}
