/**
 * Models out and in, as a user drives them in Debian's Chromium against browser mode: a small character GPT
 * trains from the page; its Export button writes a bundle beside the experiment (safetensors, config,
 * tokenizer, card, ONNX float32 and int8), read back and verified, the figures shown under the run; the
 * sidebar's "import…" brings that bundle in as a run of its own (a Hugging Face folder like any other), and an
 * inspect cell bound to the imported run draws its attention maps. (The Serve button's completion is a step of
 * workbench.e2e.test.ts.) Screenshots: e2e/screenshots/export-bundle.png, import-checkpoint.png,
 * inspect-imported.png (README).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../common/experiment';
import { ARTIFACTS, SCREENSHOTS, ensureRendererBuilt, launchChromium, makeWorkspace, openPage, screenshotWhole, startWorkbench, stepWithFailureShot, until, type RunningWorkbench } from './harness';

const FILE = 'bundles.experiment.json';
const experiment = {
  format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'bundles e2e',
  cells: [
    { id: 'data', kind: 'dataset', dataset: { source: { kind: 'file', path: 'tiny.txt', unit: 'file' }, split: 'tail' }, tokenizer: { kind: 'char' } },
    { id: 'model', kind: 'model', model: { arch: 'gpt', contextLength: 64, dModel: 32, nHeads: 4, nLayers: 2, dropout: 0 } },
    { id: 'pretrain', kind: 'pretrain', pretrain: { steps: 120, batchSize: 16, optimizer: { lr: 3e-3 }, evalInterval: 60, evalBatches: 2, checkpointInterval: 60, schedule: { warmupSteps: 10 } }, runs: [] },
  ],
};

let workbench: RunningWorkbench;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
let trainedId = '';
let importedId = '';

const pretrainCell = () => page.getByRole('region', { name: 'Pretrain cell pretrain' });
const runRow = () => pretrainCell().getByRole('table', { name: 'runs', exact: true }).getByRole('row').nth(1);

async function shot(name: string, target: Locator): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await screenshotWhole(page, target, path.join(SCREENSHOTS, `${name}.png`));
}

const step = stepWithFailureShot(() => page, 'failed-bundles-');

describe('bundles out and in, in a browser', { timeout: 600_000 }, () => {
  before(async () => {
    const workspace = makeWorkspace('tiny.txt', 100_000);
    fs.writeFileSync(path.join(workspace, FILE), JSON.stringify(experiment, null, 2));
    ensureRendererBuilt();
    workbench = await startWorkbench(workspace);
    browser = await launchChromium();
    page = await openPage(browser, consoleErrors);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await workbench?.stop();
    if (workbench) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      fs.writeFileSync(path.join(ARTIFACTS, 'bundles-workbench.log'), `${workbench.log()}\n${consoleErrors.join('\n')}`);
      fs.rmSync(workbench.workspace, { recursive: true, force: true });
    }
  });

  step('a small character GPT trains from the page', async () => {
    await page.goto(workbench.url);
    await page.getByRole('banner').getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: new RegExp(FILE.replace('.', '\\.')) }).click();
    await pretrainCell().waitFor();
    await until('the engine to be ready', async () => /engine · (?!starting|stopped|crashed|restarting)/.test(await page.getByRole('banner').getByRole('status').filter({ hasText: /^engine ·/ }).innerText()));
    await pretrainCell().getByRole('button', { name: /Run$/ }).click();
    await until('the run to complete', async () => /completed/.test(await runRow().innerText()), 240_000, 500);
    trainedId = (await runRow().getByRole('button').first().innerText()).trim();
    assert.match(trainedId, /^\d{8}-\d{6}-\w{4}$/);
  }, 300_000);

  step('Export writes a verified bundle beside the experiment and shows how each file compared', async () => {
    await runRow().getByRole('button', { name: 'Export', exact: true }).click();
    const details = pretrainCell().getByLabel(`bundle of ${trainedId}`);
    await details.waitFor({ timeout: 120_000 });
    const text = await details.innerText();
    assert.match(text, new RegExp(`Exported checkpoint step-0+120 as GPT2LMHeadModel to ${trainedId}/`));
    for (const file of ['model.safetensors', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) assert.match(text, new RegExp(`${file.replace('.', '\\.')}\\s`), file);
    assert.equal(await details.getByText('fail', { exact: true }).count(), 0, 'every file passed its check');
    assert.ok(await details.getByText('pass', { exact: true }).count() >= 3);
    const bundle = path.join(workbench.workspace, 'bundles', trainedId);
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json', 'README.md', 'onnx/model.onnx']) assert.ok(fs.existsSync(path.join(bundle, f)), f);
    await shot('export-bundle', pretrainCell());
    // a second export does not overwrite unasked: it says so and offers to replace
    await runRow().getByRole('button', { name: 'Export', exact: true }).click();
    await until('the refusal', async () => /is not empty/.test(await pretrainCell().innerText()), 60_000);
    await pretrainCell().getByRole('button', { name: 'Replace the old bundle' }).click();
    await details.waitFor({ timeout: 120_000 });
  }, 300_000);

  step('the sidebar imports the bundle as a run of its own, listed as imported', async () => {
    const sidebar = page.locator('aside.sidebar');
    await sidebar.getByRole('button', { name: 'import…' }).click();
    const form = sidebar.getByRole('form', { name: 'import a checkpoint' });
    await form.getByLabel(/Hugging Face checkpoint folder/).fill(`bundles/${trainedId}`);
    await form.getByRole('button', { name: 'Import', exact: true }).click();
    const status = form.getByRole('status');
    await status.waitFor({ timeout: 120_000 });
    const done = await status.innerText();
    assert.match(done, /Imported as run \S+ \(GPT2LMHeadModel, [\d,]+ parameters\)/);
    importedId = /Imported as run (\S+)/.exec(done)![1];
    const listed = sidebar.getByRole('list', { name: 'runs' }).getByRole('button', { name: new RegExp(importedId) });
    await until('the imported run listed', async () => /imported/.test(await listed.innerText()), 10_000);
    await shot('import-checkpoint', sidebar);
    // a folder that is not a checkpoint is refused with the reason
    await form.getByLabel(/Hugging Face checkpoint folder/).fill('bundles');
    await form.getByRole('button', { name: 'Import', exact: true }).click();
    await until('the refusal', async () => /has no model\.safetensors/.test(await form.innerText()), 30_000);
  }, 200_000);

  step('an inspect cell bound to the imported run draws its attention maps', async () => {
    const bar = page.getByRole('toolbar', { name: 'Add a cell below cell 3' });
    await bar.hover();
    await bar.getByRole('button', { name: '+ Inspect' }).click();
    const cell = page.getByRole('region', { name: /^Inspect cell / });
    await cell.waitFor();
    const run = cell.getByLabel('Run', { exact: true });
    await until('the imported run offered', async () => (await run.locator(`option[value="${importedId}"]`).count()) === 1);
    assert.match(await run.locator(`option[value="${importedId}"]`).innerText(), /imported/);
    await run.selectOption(importedId);
    await cell.getByLabel('Text', { exact: true }).fill('ROMEO: O, speak again, bright angel!');
    await cell.getByRole('button', { name: /Show/ }).click();
    const grid = cell.getByTestId('model-grid');
    await grid.waitFor({ timeout: 60_000 });
    assert.equal(await grid.getAttribute('aria-label'), '2 layers × 4 heads');
    await shot('inspect-imported', cell);
    assert.deepEqual(consoleErrors, []);
  }, 200_000);
});
