/**
 * LoRA adapters as PEFT applies them, checked by PyTorch from the files alone (tools/peft_reference.py): a
 * GPT run (Conv1D, fan_in_fan_out, a regex and a plain target) and a BERT run (nn.Linear, query/value: PEFT's
 * defaults) are adapted, exported, and the base bundle + adapter files must give the merged bundle's weights.
 * Run by `npm run test:cross` (it needs Debian's python3-torch).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoraConfig } from '../../../common/finetuneConfig';
import { exportBundle } from '../../export/exportBundle';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../../inspect/tinyRuns.testing';
import { useBackend } from '../../testing';
import { loraDomainRun } from '../loraRuns.testing';

const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const REFERENCE = path.resolve(import.meta.dirname, '../../../tools/peft_reference.py');
const LOOP = { steps: 8, batchSize: 4, evalInterval: 8, evalBatches: 1, optimizer: { lr: 5e-3 }, schedule: { warmupSteps: 1, minLr: 1e-3 } };

const cases: { name: string; model: typeof TINY_GPT | typeof TINY_BERT; base: Parameters<typeof tinyRun>[2]; lora: Partial<LoraConfig>; modules: number }[] = [
  { name: 'GPT-2 (Conv1D, fan_in_fan_out; a regex target and a plain one)', model: TINY_GPT, base: {}, lora: { r: 4, alpha: 8, targetModules: ['h\\.1\\.attn\\.c_proj', 'c_attn'] }, modules: 3 },
  { name: 'BERT (nn.Linear; PEFT\'s default query and value)', model: TINY_BERT, base: { tokenizer: tinyBertTokenizer }, lora: { r: 2, alpha: 4 }, modules: 4 },
];

describe('LoRA adapter files against PEFT\'s rules in PyTorch', () => {
  for (const c of cases) {
    it(c.name, async () => {
      await useBackend('cpu');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-peft-'));
      const baseRun = await tinyRun(dir, c.model, c.base);
      const loraRun = await loraDomainRun(dir, baseRun, c.lora, LOOP);
      await exportBundle(baseRun, 'last', path.join(dir, 'base'));
      await exportBundle(loraRun, 'last', path.join(dir, 'merged'));
      const r = spawnSync(PYTHON, [REFERENCE, path.join(dir, 'base'), path.join(dir, 'merged'), path.join(dir, 'merged', 'adapter')], { encoding: 'utf8' });
      if (r.error) throw new Error(`${PYTHON} could not be run (${r.error.message}); this cross-check needs Python with torch (TORCH_PYTHON)`);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.equal(r.stdout.trim(), `ok ${c.modules} modules`);
    });
  }
});
