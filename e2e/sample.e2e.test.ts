/**
 * The sample and fill-mask panels as the notebook's inspect cell mounts them, in Debian's Chromium against
 * browser mode: two small runs (a character GPT that has learnt a little Shakespeare, a WordPiece BERT) are
 * trained by the command line in the workspace the page sees (fast, and the page lists them as it lists any
 * run of the experiment), the experiment is opened from the page and an inspect cell added for each run. The
 * GPT run's cell gets the sample panel: a sample is seen growing while it streams, repeats with its seed,
 * stops on Stop, and "Show attention" puts prompt + sample into the cell, whose views then show the attention
 * on the generated tokens; a bad field and a prompt beyond the context are refused in words. The BERT run's
 * cell gets the fill-mask panel: candidates per [MASK], and its text sent to the attention view too.
 * Screenshots: e2e/screenshots/inspect-sample.png and inspect-fill-mask.png.
 */
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../common/experiment';
import { REPO_ROOT, addInspectCell, endSession, makeWorkspace, openExperiment, saveScreenshot, startSession, stepWithFailureShot, until, type RunningWorkbench } from './harness';

const FILE = 'inspect.experiment.json';
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
const PROMPT = 'ROMEO:\n';
// short enough that prompt + sample fit the context, so the attention view takes the whole of it
const NEW_TOKENS = 96;

let workbench: RunningWorkbench;
let browser: Browser;
let page: Page;
let gptRun: string;
let bertRun: string;
let gptCell: Locator;
let bertCell: Locator;
const consoleErrors: string[] = [];

/** trains a pretrain cell of the experiment with the command line; the run's id */
function train(experimentPath: string, cell: string): string {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'workbench.js'), 'train', experimentPath, '--cell', cell, '--json'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `workbench train --cell ${cell}: ${r.stderr}`);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { run_dir: string };
  return path.basename(summary.run_dir);
}

const step = stepWithFailureShot(() => page, 'failed-sample-');
const samplePanel = () => gptCell.getByTestId('sample-panel');
const status = () => samplePanel().getByTestId('sample-status');
const texts = () => samplePanel().getByTestId('sample-text').allInnerTexts();
/** polls (every 20 ms: the Stop step times itself) until `locator`'s text matches `re`; that text */
const textMatches = (locator: Locator, re: RegExp, timeoutMs = 60_000) => until(`a text matching ${re}`, async () => {
  const text = (await locator.count()) ? await locator.first().innerText() : '';
  if (!re.test(text)) throw new Error(`the text was ${JSON.stringify(text)}`);
  return text;
}, timeoutMs, 20);
const waitDone = () => textMatches(status(), /new tokens after a prompt of/);

/** Clicks the cell's Show and waits for its model view of the text in the cell: the overview line. */
async function showAttention(cell: Locator): Promise<string> {
  await cell.getByRole('button', { name: /^▶ Show/ }).click();
  await cell.getByTestId('model-grid').waitFor({ timeout: 60_000 });
  return cell.getByTestId('inspect-where').innerText();
}

describe('the sample and fill-mask panels in the inspect cell', { timeout: 900_000 }, () => {
  before(async () => {
    const workspace = makeWorkspace('small.txt', 60_000);
    const experimentPath = path.join(workspace, FILE);
    fs.writeFileSync(experimentPath, JSON.stringify(EXPERIMENT, null, 2));
    gptRun = train(experimentPath, 'train-gpt');
    bertRun = train(experimentPath, 'train-bert');
    ({ workbench, browser, page } = await startSession(workspace, consoleErrors));
  });
  after(() => endSession({ workbench, browser }, consoleErrors, 'sample'));

  step('an inspect cell bound to the GPT run offers the sample panel, a BERT run\'s the fill-mask panel', async () => {
    await openExperiment(page, workbench.url, FILE);
    gptCell = await addInspectCell(page, EXPERIMENT.cells.length, gptRun);
    await samplePanel().waitFor();
    assert.equal(await gptCell.getByTestId('fill-mask-panel').count(), 0);
    bertCell = await addInspectCell(page, EXPERIMENT.cells.length + 1, bertRun);
    await bertCell.getByTestId('fill-mask-panel').waitFor();
    assert.equal(await bertCell.getByTestId('sample-panel').count(), 0);
  }, 120_000);

  step('a sample streams into the cell, with tokens/s and the length used, repeats with its seed, and its attention is shown', async () => {
    const panel = samplePanel();
    await textMatches(panel.getByTestId('sample-length'), new RegExp(`the model's context is ${CONTEXT} tokens`), 30_000);
    assert.equal(await panel.getByLabel('Max new tokens').inputValue(), String(CONTEXT), 'the default 200 is lowered to the context, and shown');
    await panel.getByTestId('sample-prompt').fill(PROMPT);
    await panel.getByLabel('Max new tokens').fill(String(NEW_TOKENS));
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
    // streamed, not shown whole at the end: seen at least once part-way (how often depends on the machine's speed)
    const whole = (await texts())[0]!.length;
    assert.ok([...lengths].some((n) => n > PROMPT.length && n < whole), `the text was seen at lengths ${[...lengths].join(', ')} of ${whole} while it streamed`);
    assert.match(await status().innerText(), new RegExp(`^2 × ${NEW_TOKENS} new tokens after a prompt of 7 tokens, from checkpoint step-\\d+ \\(step 500\\); context ${CONTEXT} tokens · [\\d.]+ tokens/s$`));
    const metas = await panel.getByTestId('sample-meta').allInnerTexts();
    assert.deepEqual(metas.map((m) => m.replace(/[\d.]+ tokens\/s/, 'R tokens/s')), [`seed 42 · ${NEW_TOKENS}/${NEW_TOKENS} tokens · R tokens/s`, `seed 43 · ${NEW_TOKENS}/${NEW_TOKENS} tokens · R tokens/s`]);
    const first = await texts();
    // a character model: one character per token
    assert.ok(first.every((t) => t.startsWith(PROMPT) && t.length === PROMPT.length + NEW_TOKENS), JSON.stringify(first));
    assert.notEqual(first[0], first[1]);
    await saveScreenshot(page, gptCell, 'inspect-sample');

    await panel.getByTestId('sample-generate').click();
    await textMatches(status(), /Sampling/);
    await waitDone();
    assert.deepEqual(await texts(), first, 'the same seed gives the same texts');

    await panel.getByTestId('sample-show-attention').first().click();
    assert.equal(await gptCell.getByLabel('Text', { exact: true }).inputValue(), first[0], 'prompt + sample go to the cell\'s text, line breaks and all');
    assert.match(await showAttention(gptCell), new RegExp(`step 500 · ${first[0].length} tokens$`), 'the attention of every generated token');
    assert.equal(await gptCell.getByTestId('model-grid').getAttribute('aria-label'), '2 layers × 4 heads');
  }, 180_000);

  step('Stop ends a long request within a second, keeping what streamed', async () => {
    const panel = samplePanel();
    await panel.getByLabel('Samples').fill('8');
    await panel.getByTestId('sample-generate').click();
    await textMatches(panel.getByTestId('sample-text'), /^ROMEO:\n[^]{5}/);
    const t0 = Date.now();
    await panel.getByTestId('sample-stop').click();
    await textMatches(status(), new RegExp(`Stopped after \\d+ of ${8 * NEW_TOKENS} new tokens`), 10_000);
    const took = Date.now() - t0;
    assert.ok(took < 1000, `stopped ${took} ms after the click`);
    assert.ok((await texts())[0].length > PROMPT.length + 5, 'what streamed is kept');
    assert.ok(await panel.getByTestId('sample-generate').isEnabled(), 'a new request can start');
  });

  step('bad input is refused in words: a field out of range, a prompt longer than the context', async () => {
    const panel = samplePanel();
    await panel.getByLabel('Samples').fill('1');
    await panel.getByLabel('Top-p').fill('0');
    await panel.getByTestId('sample-generate').click();
    assert.match(await panel.getByText('A number above 0 and at most 1').innerText(), /1 keeps every token/);
    await panel.getByLabel('Top-p').fill('0.9');
    await panel.getByTestId('sample-prompt').fill('x'.repeat(CONTEXT + 20));
    await panel.getByTestId('sample-generate').click();
    await panel.getByTestId('sample-error').waitFor();
    assert.match(await panel.getByTestId('sample-error').innerText(), /the prompt is 148 tokens, longer than the model's context of 128 tokens/);
  });

  step('fill-mask lists the top-k candidates with probabilities at each [MASK], and its text goes to the attention view', async () => {
    const panel = bertCell.getByTestId('fill-mask-panel');
    const text = 'the king [MASK] to the [MASK] .';
    await panel.getByTestId('fill-mask-text').fill(text);
    await panel.getByTestId('fill-mask-run').click();
    await panel.getByTestId('fill-mask-results').waitFor({ timeout: 60_000 });
    const masks = panel.getByTestId('fill-mask-mask');
    assert.equal(await masks.count(), 2);
    for (const m of await masks.all()) {
      const probs = (await m.locator('tbody td.num').allInnerTexts()).map((t) => Number(t.replace('%', '')));
      assert.equal(probs.length, 5);
      assert.deepEqual(probs, [...probs].sort((a, b) => b - a), 'most likely first');
      assert.ok(probs[0] > 0 && probs.reduce((a, b) => a + b) <= 100.01);
    }
    await saveScreenshot(page, bertCell, 'inspect-fill-mask');

    await panel.getByTestId('fill-mask-show-attention').click();
    assert.equal(await bertCell.getByLabel('Text', { exact: true }).inputValue(), text);
    assert.match(await showAttention(bertCell), /step 300 · \d+ tokens$/);
    assert.equal(await bertCell.getByTestId('model-grid').getAttribute('aria-label'), '2 layers × 2 heads');

    await panel.getByTestId('fill-mask-text').fill('no mask here');
    await panel.getByTestId('fill-mask-run').click();
    await panel.getByText('The text has no [MASK]').waitFor();
    assert.deepEqual(consoleErrors.filter((e) => !/favicon/.test(e)), []);
  });
});
