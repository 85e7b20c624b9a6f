/**
 * The compress cell as a user drives it, in Debian's Chromium against browser mode: a small character GPT
 * trains from the page, a compress cell is added and bound to it, variants are made from the cell (one step
 * per method in METHODS), the comparison is measured from the cell (rows, charts of quality against size and
 * latency, the per-head heatmap) and exported as CSV, and undo takes a cell edit back.
 *
 * Variants: each method in METHODS is one step that sets the method, presses Run and waits for the variant's
 * run to complete in the cell's variants list, with short loops for the methods that train. Beside them the
 * comparison measures a variant written next to the base as a derived run folder (an exact copy:
 * common/node/copyVariant.testing.ts), whose figures are known.
 * Screenshots: e2e/screenshots/compress-*.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import type { CompressConfig } from '../common/compressConfig';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION, runDirOf } from '../common/experiment';
import { writeCopyVariant } from '../common/node/copyVariant.testing';
import { endSession, openExperiment, saveScreenshot, startSession, stepWithFailureShot, until, type RunningWorkbench } from './harness';

const FILE = 'compress.experiment.json';
const experiment = {
  format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'compress e2e',
  cells: [
    { id: 'data', kind: 'dataset', dataset: { source: { kind: 'file', path: 'tiny.txt', unit: 'file' }, split: 'tail' }, tokenizer: { kind: 'char' } },
    { id: 'model', kind: 'model', model: { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2, dropout: 0 } },
    { id: 'pretrain', kind: 'pretrain', pretrain: { steps: 60, batchSize: 8, optimizer: { lr: 3e-3 }, evalInterval: 20, evalBatches: 2, checkpointInterval: 20, schedule: { warmupSteps: 5 } }, runs: [] },
  ],
};

/** The methods made from the cell, one step each, with the settings typed into its form (field label → value). */
const METHODS: { method: CompressConfig['method']; fields?: Record<string, string> }[] = [
  { method: 'int8' },
  { method: 'qat', fields: { steps: '10', 'warmup steps': '2' } },
  { method: 'distill', fields: { steps: '20', 'warmup steps': '2' } },
  { method: 'prune', fields: { steps: '10', 'warmup steps': '2' } },
];

let workbench: RunningWorkbench;
let browser: Browser;
let page: Page;
let baseRunId = '';
const consoleErrors: string[] = [];

const compressCell = () => page.getByRole('region', { name: /^Compress cell / });
const pretrainCell = () => page.getByRole('region', { name: 'Pretrain cell pretrain' });
const shot = (name: string, target: Locator) => saveScreenshot(page, target, name);
const step = stepWithFailureShot(() => page, 'failed-compress-');

/** Makes a variant from the cell: the method, its settings, Run, and its run completed in the variants list. */
async function runVariant(method: CompressConfig['method'], fields: Record<string, string> = {}): Promise<void> {
  const cell = compressCell();
  await cell.getByLabel('Method', { exact: true }).selectOption(method);
  for (const [label, value] of Object.entries(fields)) await cell.getByTestId('compress-settings').getByLabel(label, { exact: true }).fill(value);
  const variants = cell.getByRole('table', { name: 'variants' });
  const before = await variants.locator('tbody tr').count().catch(() => 0);
  await cell.getByRole('button', { name: '▶ Run' }).click();
  await cell.getByTestId('job-status').waitFor({ timeout: 30_000 });
  await until(`the ${method} variant to complete`, async () => {
    const rows = await variants.locator('tbody tr').allInnerTexts().catch(() => []);
    return rows.length > before && rows.some((r) => r.includes(method) && /completed/.test(r));
  }, 300_000, 500);
}

describe('the compress cell in a browser', { timeout: 900_000 }, () => {
  before(async () => {
    const workspace = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'workbench-e2e-compress-'));
    fs.writeFileSync(path.join(workspace, 'tiny.txt'), fs.readFileSync(path.resolve(import.meta.dirname, '../../shared/data/tinyshakespeare.txt'), 'utf8').slice(0, 60_000));
    fs.writeFileSync(path.join(workspace, FILE), JSON.stringify(experiment, null, 2));
    ({ workbench, browser, page } = await startSession(workspace, consoleErrors));
  });

  after(() => endSession({ workbench, browser }, consoleErrors, 'compress'));

  step('a small character GPT trains from the page', async () => {
    await openExperiment(page, workbench.url, FILE);
    await pretrainCell().getByRole('button', { name: /Run$/ }).click();
    const row = pretrainCell().getByRole('table', { name: 'runs', exact: true }).getByRole('row').nth(1);
    await until('the run to complete', async () => /completed/.test(await row.innerText()), 240_000, 500);
    baseRunId = (await row.innerText()).match(/\d{8}-\d{6}-[a-z0-9]+/)?.[0] ?? '';
    assert.ok(baseRunId, await row.innerText());
  }, 300_000);

  step('a compress cell added below it is bound to the run, with a settings form for each method', async () => {
    const bar = page.getByRole('toolbar', { name: 'Add a cell below cell 3' });
    await bar.hover();
    await bar.getByRole('button', { name: '+ Compress' }).click();
    const cell = compressCell();
    await cell.waitFor();
    const base = cell.getByLabel('Base run', { exact: true });
    await until('the run listed as a base', async () => (await base.locator(`option[value="${baseRunId}"]`).count()) > 0);
    await base.selectOption(baseRunId);
    await until('its checkpoints listed', async () => /step-\d+/.test(await cell.getByLabel('Checkpoint', { exact: true }).innerText()));
    for (const [method, field] of [['int8', 'calibration batches'], ['distill', 'temperature'], ['prune', 'sparsity'], ['qat', 'steps']] as const) {
      await cell.getByLabel('Method', { exact: true }).selectOption(method);
      await cell.getByTestId('compress-settings').getByLabel(field, { exact: true }).waitFor();
    }
    await cell.getByLabel('Method', { exact: true }).selectOption('int8');
    assert.equal(await cell.getByRole('button', { name: '▶ Run' }).isEnabled(), true, 'the defaults run as they are');
  });

  for (const { method, fields } of METHODS) step(`a ${method} variant is made from the cell`, () => runVariant(method, fields), 360_000);

  step('a variant written beside the base is listed among its variants', async () => {
    await writeCopyVariant(runDirOf(path.join(workbench.workspace, FILE), baseRunId), 'copy-variant');
    await compressCell().getByRole('button', { name: 'Refresh variants' }).click();
    await until('the copy listed as a variant', async () => /copy-variant/.test(await compressCell().getByRole('table', { name: 'variants' }).innerText().catch(() => '')), 20_000);
  });

  step('Compare measures the base and every variant: rows, charts of quality against size and latency, the head heatmap', async () => {
    const cell = compressCell();
    await cell.getByRole('button', { name: 'Compare', exact: true }).click();
    const table = cell.getByRole('table', { name: 'comparison' });
    const variants = 1 + METHODS.length;
    await until('every row measured', async () => (await table.locator('tbody tr[data-run]').count()) === 1 + variants && !(await table.innerText()).includes('more to measure'), 300_000, 500);
    const copy = await table.locator('tr[data-run="copy-variant"]').innerText();
    assert.match(copy, /prune-magnitude/);
    assert.match(copy, /\b1\b/, 'an exact copy agrees with its base everywhere');
    assert.equal(await cell.getByRole('img', { name: 'quality against size' }).count(), 1);
    assert.equal(await cell.getByRole('img', { name: 'quality against latency' }).count(), 1);
    assert.ok(await cell.getByRole('img', { name: 'quality against size' }).locator('g[data-run]').count() >= 1 + variants);
    await table.locator('tr[data-run="copy-variant"]').click();
    await cell.getByTestId('head-heatmap').waitFor();
    assert.equal(await cell.getByTestId('head-heatmap').locator('rect').count(), 2 * 4, '2 layers × 4 heads');
    await shot('compress-comparison', cell);
  }, 360_000);

  step('the table exports as CSV (a download, and a file beside the experiment)', async () => {
    const cell = compressCell();
    const [download] = await Promise.all([page.waitForEvent('download'), cell.getByRole('button', { name: 'Export CSV' }).click()]);
    assert.equal(download.suggestedFilename(), `${baseRunId}.comparison.csv`);
    const lines = fs.readFileSync((await download.path())!, 'utf8').trim().split('\r\n');
    assert.match(lines[0], /^run_id,name,role,method,checkpoint,step,parameters,nonzero_parameters,bytes_on_disk,tfjs_ms_per_seq/);
    assert.equal(lines.length, 3 + METHODS.length);
    await until('the file beside the experiment', async () => /written to/.test(await cell.getByTestId('compare-exported').innerText().catch(() => '')), 10_000);
    const onDisk = fs.readFileSync(path.join(workbench.workspace, 'comparisons', `${baseRunId}.comparison.csv`), 'utf8');
    assert.equal(onDisk.trim().split('\r\n').length, lines.length);
  });

  step('undo takes a cell edit back; the cell\'s choices are in the file once saved', async () => {
    const cell = compressCell();
    const file = path.join(workbench.workspace, FILE);
    const cellOnDisk = () => (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Record<string, unknown>[] }).cells.find((c) => c.kind === 'compress');
    await page.keyboard.press('ControlOrMeta+S');
    await until('the picked variant on disk', async () => cellOnDisk()?.selectedVariant === 'copy-variant', 15_000);
    const method = cell.getByLabel('Method', { exact: true });
    const was = await method.inputValue(); // the last method a variant was made with
    await method.selectOption(was === 'distill' ? 'int8' : 'distill');
    await cell.getByRole('heading', { name: /Variants of/ }).click();
    await page.keyboard.press('ControlOrMeta+Z');
    await until(`the method back to ${was}`, async () => (await method.inputValue()) === was, 5_000);
    await page.keyboard.press('ControlOrMeta+S');
    await until('the undone edit saved', async () => (await page.locator('.save-state').innerText()) === 'saved', 15_000);
    const onDisk = cellOnDisk()!;
    assert.equal(onDisk.baseRunId, baseRunId);
    assert.equal(onDisk.method, was, JSON.stringify(onDisk));
    assert.equal(onDisk.selectedVariant, 'copy-variant', JSON.stringify(onDisk));
    assert.deepEqual(consoleErrors.filter((e) => !/favicon/.test(e)), []);
  });
});
