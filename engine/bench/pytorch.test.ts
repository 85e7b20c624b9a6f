import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBaselineOutput, runPytorchBaseline } from './pytorch';

test('parseBaselineOutput takes the last JSON line that carries tokens_per_s', () => {
  const out = [
    '{"iter": 0, "train_loss": 4.2, "val_loss": 4.2}',
    'some warning',
    '{"engine": "pytorch-1.13.0a0", "threads": 1, "tokens_per_s": 14101.8, "train_s": 108.92}',
    '',
  ].join('\n');
  assert.equal(parseBaselineOutput(out)?.tokens_per_s, 14101.8);
  assert.equal(parseBaselineOutput('{"iter": 1}\nnot json'), null);
});

test('a missing python gives null tokens_per_s and a reason, not an exception', async () => {
  const r = await runPytorchBaseline({ python: '/nonexistent/python3', iters: 1 });
  assert.equal(r.tokens_per_s, null);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.reason, /nonexistent/);
});

test('a missing script gives a reason', async () => {
  const r = await runPytorchBaseline({ script: '/nonexistent/torch_baseline.py', iters: 1 });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.reason, /missing/);
});
