import assert from 'node:assert/strict';
import { test } from 'node:test';
import { comparableConfigOf, plannedStepsOf, RunConfig } from './runConfig';

const base = { runDir: '/runs/base', runId: 'base', checkpoint: 'step-00000600', step: 600, objective: 'mlm-nsp' };
const model = { arch: 'bert', vocabSize: 100, contextLength: 16, dModel: 8, nHeads: 2, nLayers: 1, dFF: 16 };
const finetune = (method: 'full' | 'lora', steps?: number) => RunConfig.parse({
  task: 'finetune', base, model, finetune: { data: { kind: 'brown-genre' }, method, ...(steps ? { loop: { steps } } : {}) },
});

test('a derived run plans its loop\'s steps; an int8 variant, one pass, plans none', () => {
  assert.equal(plannedStepsOf(finetune('lora')), 300, 'the fine-tune loop\'s default');
  assert.equal(plannedStepsOf(finetune('full', 40)), 40);
  assert.equal(plannedStepsOf(RunConfig.parse({ task: 'compress', base, model, compress: { method: 'qat' } })), 200);
  assert.equal(plannedStepsOf(RunConfig.parse({ task: 'compress', base, model, compress: { method: 'int8' } })), null);
  assert.equal(plannedStepsOf(null), null);
});

test('the configs of a full and a LoRA fine-tune differ where they were set differently', () => {
  const [full, lora] = [comparableConfigOf(finetune('full')), comparableConfigOf(finetune('lora'))] as { finetune: { method: string } }[];
  assert.deepEqual([full.finetune.method, lora.finetune.method], ['full', 'lora']);
  assert.equal(comparableConfigOf(null), undefined);
});
