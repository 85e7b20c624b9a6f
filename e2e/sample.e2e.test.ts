/**
 * The sample and fill-mask panels end to end: two small runs (a character GPT that has learnt a little
 * Shakespeare, a WordPiece BERT) trained by the command line in a workspace, then browser mode and Chromium
 * on the panels' page (renderer/inspect/sample-panels.html — the same components the notebook's inspect
 * cell mounts, under the test ids [data-testid=sample-panel] and [data-testid=fill-mask-panel]). A sample
 * is seen growing while it streams, repeats with its seed, stops on Stop, goes to the attention view; a
 * bad field and a prompt beyond the context are refused in words; fill-mask lists candidates per [MASK].
 * Screenshots: e2e/screenshots/inspect-sample.png and inspect-fill-mask.png.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../common/experiment';
import { ARTIFACTS, REPO_ROOT, SCREENSHOTS, ensureRendererBuilt, launchChromium, makeWorkspace, startWorkbench, type RunningWorkbench } from './harness';

const cleaning = { normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 };
const source = { kind: 'file', path: 'small.txt', unit: 'paragraph' };
const EXPERIMENT = {
  format: EXPERIMENT_FORMAT,
  version: EXPERIMENT_VERSION,
  name: 'inspect panels',
  cells: [
    { id: 'chars', kind: 'dataset', dataset: { source, split: 'tail', cleaning }, tokenizer: { kind: 'char' } },
    { id: 'gpt', kind: 'model', model: { arch: 'gpt', contextLength: 128, dModel: 64, nHeads: 4, nLayers: 2 } },
    { id: 'train-gpt', kind: 'pretrain', pretrain: { steps: 500, batchSize: 16, seqLen: 64, optimizer: { lr: 3e-3 }, evalInterval: 250, evalBatches: 2, schedule: { warmupSteps: 20, minLr: 3e-4 } } },
    { id: 'words', kind: 'dataset', dataset: { source, split: 'tail', cleaning }, tokenizer: { kind: 'wordpiece', vocabSize: 600 } },
    { id: 'bert', kind: 'model', model: { arch: 'bert', contextLength: 32, dModel: 32, nHeads: 2, nLayers: 2, dFF: 64 } },
    { id: 'train-bert', kind: 'pretrain', pretrain: { steps: 300, batchSize: 16, objective: 'mlm', optimizer: { lr: 3e-3 }, evalInterval: 150, evalBatches: 1, schedule: { warmupSteps: 20, minLr: 3e-4 } } },
  ],
};
const CONTEXT = 128;

let workbench: RunningWorkbench;
let browser: Browser;
let page: Page;
let experimentPath: string;
let gptRun: string;
let bertRun: string;

/** trains a pretrain cell of the experiment with the command line; the run's id */
function train(cell: string): string {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'workbench.js'), 'train', experimentPath, '--cell', cell, '--json'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `workbench train --cell ${cell}: ${r.stderr}`);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { run_dir: string };
  return path.basename(summary.run_dir);
}

/** the panels' page for a run, the token in the address (browser mode trades it for its cookie) */
async function openPanel(panel: 'sample' | 'fill-mask', runId: string): Promise<Locator> {
  const url = new URL(workbench.url);
  url.pathname = '/inspect/sample-panels.html';
  url.searchParams.set('experiment', experimentPath);
  url.searchParams.set('run', runId);
  url.searchParams.set('panel', panel);
  await page.goto(url.href);
  const root = page.getByTestId(`${panel}-panel`);
  await root.waitFor({ timeout: 30_000 });
  return root;
}

async function shot(name: string, target: Locator): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await target.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), animations: 'disabled' });
}

/** a test whose failure leaves a picture of the page in test-results/e2e/ */
function step(name: string, fn: () => Promise<void>): void {
  it(name, { timeout: 120_000 }, async () => {
    try {
      await fn();
    } catch (err) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page?.screenshot({ path: path.join(ARTIFACTS, `failed-sample-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`), fullPage: true }).catch(() => {});
      throw err;
    }
  });
}

const status = () => page.getByTestId('sample-status');
const texts = () => page.getByTestId('sample-text').allInnerTexts();

/** polls `locator`'s text until it matches `re`; the text it had last in the error when it never does */
async function textMatches(locator: Locator, re: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await locator.count()) ? await locator.first().innerText() : '';
    if (re.test(last)) return last;
    await page.waitForTimeout(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${re}; the text was ${JSON.stringify(last)}`);
}
const waitDone = () => textMatches(status(), /new tokens after a prompt of/);

describe('sample and fill-mask panels in a browser', { timeout: 900_000 }, () => {
  before(async () => {
    const workspace = makeWorkspace('small.txt', 60_000);
    experimentPath = path.join(workspace, 'inspect.experiment.json');
    fs.writeFileSync(experimentPath, JSON.stringify(EXPERIMENT, null, 2));
    gptRun = train('train-gpt');
    bertRun = train('train-bert');
    ensureRendererBuilt();
    workbench = await startWorkbench(workspace);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    if (workbench) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      fs.writeFileSync(path.join(ARTIFACTS, 'sample-workbench.log'), workbench.log());
      await workbench.stop();
      fs.rmSync(workbench.workspace, { recursive: true, force: true });
    }
  });

  step('a sample streams into the panel, with tokens/s and the length used, and repeats with its seed', async () => {
    const panel = await openPanel('sample', gptRun);
    await textMatches(page.getByTestId('sample-length'), new RegExp(`the model's context is ${CONTEXT} tokens`), 30_000);
    assert.equal(await panel.getByLabel('Max new tokens').inputValue(), String(CONTEXT), 'the default 200 is lowered to the context, and shown');
    await panel.getByTestId('sample-prompt').fill('ROMEO:\n');
    await panel.getByLabel('Samples').fill('2');
    await panel.getByLabel('Seed').fill('42');
    await panel.getByTestId('sample-generate').click();
    // seen while it streams: the first sample's text at more than one length before the request is done
    const lengths = new Set<number>();
    while (!/new tokens after a prompt of/.test(await status().innerText())) {
      const t = (await texts())[0];
      if (t !== undefined) lengths.add(t.length);
      await page.waitForTimeout(30);
    }
    assert.ok(lengths.size >= 3, `the text grew through ${lengths.size} lengths while it streamed`);
    assert.match(await status().innerText(), /^2 × 128 new tokens after a prompt of 7 tokens, from checkpoint step-\d+ \(step 500\); context 128 tokens · [\d.]+ tokens\/s$/);
    const metas = await page.getByTestId('sample-meta').allInnerTexts();
    assert.deepEqual(metas.map((m) => m.replace(/[\d.]+ tokens\/s/, 'R tokens/s')), ['seed 42 · 128/128 tokens · R tokens/s', 'seed 43 · 128/128 tokens · R tokens/s']);
    const first = await texts();
    assert.ok(first.every((t) => t.startsWith('ROMEO:\n') && t.length > 'ROMEO:\n'.length + 64), JSON.stringify(first));
    assert.notEqual(first[0], first[1]);
    await shot('inspect-sample', panel);

    await panel.getByTestId('sample-generate').click();
    await textMatches(status(), /Sampling/);
    await waitDone();
    assert.deepEqual(await texts(), first, 'the same seed gives the same texts');

    await panel.getByTestId('sample-show-attention').first().click();
    assert.equal(await page.getByTestId('sent-to-attention').innerText(), first[0], 'prompt + sample go to the attention view');
  });

  step('Stop ends a long request within a second, keeping what streamed', async () => {
    const panel = page.getByTestId('sample-panel');
    await panel.getByLabel('Samples').fill('8');
    await panel.getByTestId('sample-generate').click();
    await textMatches(page.getByTestId('sample-text'), /^ROMEO:\n[^]{5}/);
    const t0 = Date.now();
    await panel.getByTestId('sample-stop').click();
    await textMatches(status(), /Stopped after \d+ of 1024 new tokens/, 10_000);
    const took = Date.now() - t0;
    assert.ok(took < 1000, `stopped ${took} ms after the click`);
    assert.ok(await panel.getByTestId('sample-generate').isEnabled(), 'a new request can start');
  });

  step('bad input is refused in words: a field out of range, a prompt longer than the context', async () => {
    const panel = page.getByTestId('sample-panel');
    await panel.getByLabel('Samples').fill('1');
    await panel.getByLabel('Top-p').fill('0');
    await panel.getByTestId('sample-generate').click();
    assert.match(await panel.getByText('A number above 0 and at most 1').innerText(), /1 keeps every token/);
    await panel.getByLabel('Top-p').fill('0.9');
    await panel.getByTestId('sample-prompt').fill('x'.repeat(CONTEXT + 20));
    await panel.getByTestId('sample-generate').click();
    await page.getByTestId('sample-error').waitFor();
    assert.match(await page.getByTestId('sample-error').innerText(), /the prompt is 148 tokens, longer than the model's context of 128 tokens/);
  });

  step('fill-mask lists the top-k candidates with probabilities at each [MASK]; a GPT run is pointed to sampling', async () => {
    const panel = await openPanel('fill-mask', bertRun);
    await panel.getByTestId('fill-mask-text').fill('the king [MASK] to the [MASK] .');
    await panel.getByTestId('fill-mask-run').click();
    await page.getByTestId('fill-mask-results').waitFor({ timeout: 60_000 });
    const masks = page.getByTestId('fill-mask-mask');
    assert.equal(await masks.count(), 2);
    for (const m of await masks.all()) {
      const probs = (await m.locator('tbody td.num').allInnerTexts()).map((t) => Number(t.replace('%', '')));
      assert.equal(probs.length, 5);
      assert.deepEqual(probs, [...probs].sort((a, b) => b - a), 'most likely first');
      assert.ok(probs[0] > 0 && probs.reduce((a, b) => a + b) <= 100.01);
    }
    await shot('inspect-fill-mask', panel);

    await panel.getByTestId('fill-mask-text').fill('no mask here');
    await panel.getByTestId('fill-mask-run').click();
    await panel.getByText('The text has no [MASK]').waitFor();

    const onGpt = await openPanel('fill-mask', gptRun);
    await onGpt.getByText('This run is a GPT model, which has no masked-LM head: use the sample panel for it.').waitFor();
    await onGpt.getByTestId('fill-mask-text').fill('a [MASK]');
    await onGpt.getByTestId('fill-mask-run').click();
    await page.getByTestId('fill-mask-error').waitFor();
    assert.match(await page.getByTestId('fill-mask-error').innerText(), /fill-mask needs a BERT run — for this run use sample/);
  });
});
