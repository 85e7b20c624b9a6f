/**
 * The panels' pure parts: forms read into the API's params or refused per field with the range; a sampling
 * request built from streamed pieces and settled by its end; the panels' first render (static markup).
 */
import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { SAMPLE_LIMITS, SamplingParams } from '../../common/sampling';
import type { PayloadOf } from '../../common/workbenchApi';
import { equal, ok, test } from '../dashboards/testing';
import { FillMaskPanel, MaskTables } from './FillMaskPanel';
import { SamplePanel } from './SamplePanel';
import { defaultSampleForm, maxNewTokensLimit, readFillMaskForm, readSampleForm } from './sampleForm';
import { applyEnded, applyText, describeRequest, newRequestId, startRequest } from './sampleStream';

(globalThis as { React?: typeof React }).React = React;
const h = React.createElement;

test('the default form reads into valid params; the length is lowered to a shorter context, never past it', () => {
  const f = defaultSampleForm(null, 'ROMEO:');
  const r = readSampleForm(f, null);
  ok(r.ok, JSON.stringify(r));
  if (r.ok) {
    equal(r.params.maxNewTokens, 200);
    ok(SamplingParams.safeParse(r.params).success, 'the API accepts what the form gives');
  }
  equal(defaultSampleForm(64).maxNewTokens, '64');
  equal(defaultSampleForm(1024).maxNewTokens, '200');
  equal(maxNewTokensLimit(100_000), SAMPLE_LIMITS.maxNewTokens);
});

test('each bad field gets its own message with the range that is right', () => {
  const r = readSampleForm({ prompt: '', maxNewTokens: '65', temperature: '-1', topK: '2.5', topP: '0', seed: 'x', numSamples: '9' }, 64);
  ok(!r.ok);
  if (r.ok) return;
  equal(r.errors.prompt, 'Write a prompt: the text the samples continue.');
  equal(r.errors.maxNewTokens, "A whole number from 1 to 64 (the model's context is 64 tokens).");
  ok(r.errors.temperature?.includes('from 0'), r.errors.temperature);
  ok(r.errors.topK?.includes('whole number'), r.errors.topK);
  ok(r.errors.topP?.includes('above 0'), r.errors.topP);
  ok(r.errors.seed?.includes('whole number'), r.errors.seed);
  equal(r.errors.numSamples, `A whole number from 1 to ${SAMPLE_LIMITS.numSamples}.`);
  const cap = readSampleForm({ ...defaultSampleForm(null, 'a'), maxNewTokens: String(SAMPLE_LIMITS.maxNewTokens + 1) }, 100_000);
  ok(!cap.ok && cap.errors.maxNewTokens?.includes(`the workbench's cap is ${SAMPLE_LIMITS.maxNewTokens}`), JSON.stringify(cap));
});

test('fill-mask: a text without [MASK] is refused saying how to write it; a good one reads', () => {
  const bad = readFillMaskForm({ text: 'the cat sat', topK: '0' });
  ok(!bad.ok);
  if (!bad.ok) {
    ok(bad.errors.text?.includes('has no [MASK]'), bad.errors.text);
    equal(bad.errors.topK, `A whole number from 1 to ${SAMPLE_LIMITS.fillMaskTopK}.`);
  }
  const good = readFillMaskForm({ text: 'the [MASK] sat', topK: '3' });
  ok(good.ok && good.params.topK === 3 && good.params.text === 'the [MASK] sat');
});

const handle = { experimentPath: '/w/x.experiment.json', runId: 'run-1' };
const piece = (requestId: string, sample: number, text: string, newTokens: number): PayloadOf<'onSampleText'> =>
  ({ ...handle, requestId, sample, text, newTokens, maxNewTokens: 10, tokensPerSecond: 50 });

test('a request grows from its own pieces only, and its end replaces them with the final texts', () => {
  const params = { prompt: 'A', maxNewTokens: 10, temperature: 1, topK: 0, topP: 1, seed: 5, numSamples: 2 };
  const id = newRequestId();
  ok(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id), id);
  let r = startRequest(id, params);
  r = applyText(r, piece(id, 0, 'he', 2));
  r = applyText(r, piece('other', 0, 'XX', 2));
  r = applyText(r, piece(id, 1, 'o', 1));
  r = applyText(r, piece(id, 0, 'llo', 5));
  equal(r.samples.map((s) => s.text).join('|'), 'hello|o');
  equal(r.samples[1].seed, 6, 'sample i has seed + i');
  equal(describeRequest(r), 'Sampling 2 × 10 new tokens… 6 so far');
  const stopped = applyEnded(r, { ...handle, requestId: id, outcome: 'cancelled' });
  equal(describeRequest(stopped), 'Stopped after 6 of 20 new tokens');
  equal(applyText(stopped, piece(id, 0, 'late', 6)).samples[0].text, 'hello', 'a late piece of a stopped request is dropped');
  const done = applyEnded(r, { ...handle, requestId: id, outcome: 'done', result: {
    checkpoint: { name: 'step-00000006', step: 6 }, contextLength: 24, promptTokens: 1, maxNewTokens: 10,
    samples: [{ seed: 5, text: 'hello worl', newTokens: 10, tokensPerSecond: 40 }, { seed: 6, text: 'ooooooooo!', newTokens: 10, tokensPerSecond: 41 }],
  } });
  equal(done.samples[0].text, 'hello worl');
  equal(describeRequest(done), '2 × 10 new tokens after a prompt of 1 tokens, from checkpoint step-00000006 (step 6); context 24 tokens');
  const failed = applyEnded(r, { ...handle, requestId: id, outcome: 'failed', error: { code: 'INVALID_CONFIG', message: 'the prompt is 30 tokens, longer than the model\'s context of 24 tokens' } });
  equal(failed.status, 'failed');
  ok(failed.error?.includes('30 tokens'));
});

test('the panels render their forms with the test ids the inspect cell and the e2e test use', () => {
  const props = { experimentPath: '/w/x.experiment.json', runId: 'run-1', checkpoint: 'last' };
  const sample = renderToStaticMarkup(h(SamplePanel, props));
  ok(sample.includes('data-testid="sample-panel"') && sample.includes('data-testid="sample-prompt"') && sample.includes('data-testid="sample-stop"'), sample);
  ok(sample.includes('value="200"'), 'the default length is shown');
  ok(sample.includes(`At most ${SAMPLE_LIMITS.maxNewTokens} new tokens per sample`), 'the bound in use is stated');
  const fill = renderToStaticMarkup(h(FillMaskPanel, props));
  ok(fill.includes('data-testid="fill-mask-panel"') && fill.includes('data-testid="fill-mask-text"'), fill);
  const tables = renderToStaticMarkup(h(MaskTables, { fill: {
    checkpoint: { name: 'step-1', step: 1 }, tokens: ['[CLS]', 'the', '[MASK]', '[SEP]'],
    masks: [{ position: 2, candidates: [{ token: 'cat', id: 7, probability: 0.625 }, { token: 'dog', id: 8, probability: 0.125 }] }],
  } }));
  ok(tables.includes('62.50%') && tables.includes('12.50%'), tables);
  ok(tables.indexOf('cat') < tables.indexOf('dog'), 'most likely first');
});
