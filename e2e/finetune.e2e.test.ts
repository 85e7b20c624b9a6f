/**
 * The fine-tune cell as a user drives it, in Debian's Chromium against browser mode: a tiny BERT pretrains
 * briefly from the page, a fine-tune cell is added below it and bound to that run, set to a short full
 * fine-tuning on the Brown genre task, and run; its dashboard shows the loss and the test accuracy curve,
 * and when it ends the per-class table and the 15 × 15 confusion matrix. Then the same cell switched to
 * LoRA (the cell's default method) fine-tunes the same run again: its own confusion matrix, and both runs
 * side by side on the accuracy chart and in their run folders, the LoRA one training a small share. The runs
 * and their settings land in the experiment file; undo takes a settings change back.
 * Screenshots: e2e/screenshots/finetune-*.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../common/experiment';
import { endSession, makeWorkspace, openExperiment, saveScreenshot, startSession, stepWithFailureShot, until, type RunningWorkbench } from './harness';

const FILE = 'finetune.experiment.json';
const experiment = {
  format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'finetune e2e',
  cells: [
    { id: 'data', kind: 'dataset', dataset: { source: { kind: 'file', path: 'tiny.txt', unit: 'paragraph' }, split: 'tail' }, tokenizer: { kind: 'wordpiece', vocabSize: 400 } },
    { id: 'model', kind: 'model', model: { arch: 'bert', contextLength: 32, dModel: 32, nHeads: 2, nLayers: 2, dFF: 64, dropout: 0 } },
    { id: 'pretrain', kind: 'pretrain', pretrain: { objective: 'mlm', steps: 30, batchSize: 8, evalInterval: 15, evalBatches: 1, schedule: { warmupSteps: 3 } }, runs: [] },
  ],
};

let workbench: RunningWorkbench;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const pretrainCell = () => page.getByRole('region', { name: 'Pretrain cell pretrain' });
const finetuneCell = () => page.getByRole('region', { name: /^Fine-tune cell / });
const step = stepWithFailureShot(() => page, 'failed-finetune-');
const fill = async (cell: Locator, label: string, value: string) => cell.getByLabel(label, { exact: true }).fill(value);

describe('the fine-tune cell in a browser', { timeout: 600_000 }, () => {
  before(async () => {
    const workspace = makeWorkspace('tiny.txt', 60_000);
    fs.writeFileSync(path.join(workspace, FILE), JSON.stringify(experiment, null, 2));
    ({ workbench, browser, page } = await startSession(workspace, consoleErrors));
  });

  after(() => endSession({ workbench, browser }, consoleErrors, 'finetune'));

  step('a tiny BERT pretrains from the page', async () => {
    await openExperiment(page, workbench.url, FILE);
    await pretrainCell().getByRole('button', { name: /Run$/ }).click();
    const row = pretrainCell().getByRole('table', { name: 'runs', exact: true }).getByRole('row').nth(1);
    await until('the run to complete', async () => /completed/.test(await row.innerText()), 240_000, 500);
  }, 300_000);

  step('a fine-tune cell is added, bound to the run and set to a short full fine-tuning on Brown genres; undo takes a change back', async () => {
    const bar = page.getByRole('toolbar', { name: 'Add a cell below cell 3' });
    await bar.hover();
    await bar.getByRole('button', { name: '+ Fine-tune' }).click();
    const cell = finetuneCell();
    await cell.waitFor();
    const base = cell.getByLabel('Base run', { exact: true });
    await until('the pretrained run listed', async () => (await base.locator('option').count()) > 1);
    await base.selectOption({ index: 1 });
    await cell.getByLabel('Method', { exact: true }).selectOption('full');
    assert.match(await cell.getByTestId('trainable-share').innerText(), /every weight trains: 100% of the model/);
    await fill(cell, 'Passages per text', '2');
    await fill(cell, 'Steps', '20');
    await fill(cell, 'Warmup steps', '2');
    await fill(cell, 'Batch size', '8');
    await fill(cell, 'Evaluate every', '10');
    await fill(cell, 'Test examples per evaluation', '300');
    await fill(cell, 'Peak learning rate', '0.002');
    await fill(cell, 'Steps', '25');
    await cell.getByTestId('trainable-share').click();
    await page.keyboard.press('ControlOrMeta+Z');
    await until('undo restores 20 steps', async () => (await cell.getByLabel('Steps', { exact: true }).inputValue()) === '20', 5_000);
    await saveScreenshot(page, cell, 'finetune-form');
  });

  step('Run trains the classifier with its own dashboard, then shows the per-class figures and the confusion matrix', async () => {
    const cell = finetuneCell();
    await cell.getByRole('button', { name: /Run$/ }).click();
    await cell.getByTestId('run-dashboard').waitFor({ timeout: 120_000 });
    await cell.getByTestId('chart-accuracy').waitFor();
    const matrix = cell.getByTestId('confusion-matrix');
    await until('the confusion matrix after the last evaluation', async () => (await matrix.count()) > 0 && /at step 20,/.test(await cell.getByTestId('classification-report').innerText()), 240_000, 1000);
    assert.equal(await matrix.locator('tbody tr').count(), 15, 'one row per Brown genre');
    const perClass = await cell.getByRole('table', { name: 'per-class figures' }).innerText();
    for (const genre of ['press: reportage', 'learned', 'humor']) assert.ok(perClass.includes(genre), genre);
    assert.match(await cell.getByTestId('test-accuracy').innerText(), /^\d+\.\d%$/);
    const total = await matrix.locator('tbody td').evaluateAll((tds) => tds.reduce((a, td) => a + Number(td.textContent || 0), 0));
    assert.equal(total, 200, '2 passages of each of the 100 held-out texts');
    await saveScreenshot(page, cell, 'finetune-result');
  }, 300_000);

  step('LoRA from the same run: the method back to lora, rank 4, Run; its own confusion matrix when it ends', async () => {
    const cell = finetuneCell();
    await cell.getByLabel('Method', { exact: true }).selectOption('lora');
    assert.match(await cell.getByTestId('trainable-share').innerText(), /LoRA trains its adapters and the classification head only/);
    await fill(cell, 'LoRA rank', '4');
    // the target picker lists the base's modules: a typo is refused with the name it could mean, fixed in one click
    const targets = cell.getByLabel('Target modules');
    await targets.fill('querry, value');
    await until('the typo answered', async () => (await cell.getByTestId('lora-targets').getByRole('alert').count()) > 0, 10_000);
    assert.match(await cell.getByTestId('lora-targets').getByRole('alert').first().innerText(), /'querry' matches no module .*did you mean 'query'/);
    await cell.getByRole('button', { name: 'use query for querry' }).click();
    await until('both patterns counted', async () => (await cell.getByTestId('lora-target-count').allInnerTexts()).join(' | ') === 'query: 2 | value: 2', 10_000);
    assert.match(await cell.getByTestId('lora-share').innerText(), /^4 modules · [\d,]+ trainable parameters at r=4 · \d+\.\d\d% of [\d,]+$/);
    assert.equal(await targets.inputValue(), 'query, value');
    // another field between, so that the next edit of the targets is an undo step of its own (quick edits of one field merge)
    await fill(cell, 'Peak learning rate', '0.005');
    await targets.fill('query, value, key');
    await cell.getByTestId('lora-share').click();
    await page.keyboard.press('ControlOrMeta+Z');
    await until('undo restores the two patterns', async () => (await targets.inputValue()) === 'query, value', 5_000);
    await saveScreenshot(page, cell.getByTestId('lora-targets'), 'finetune-lora-targets');
    await cell.getByRole('button', { name: /Run$/ }).click();
    // the full run's report also ends "at step 20": wait for the LoRA run (live, or already a third run folder) first
    const runFolders = () => fs.readdirSync(path.join(workbench.workspace, FILE.replace(/\.experiment\.json$/, '.runs'))).length;
    await until('the LoRA run to start', async () => (await cell.getByTestId('job-status').count()) > 0 || runFolders() === 3, 60_000);
    await until('the LoRA run to end', async () => (await cell.getByTestId('job-status').count()) === 0, 240_000, 1000);
    const matrix = cell.getByTestId('confusion-matrix');
    await until('the LoRA run\'s confusion matrix', async () => (await matrix.count()) > 0 && /at step 20,/.test(await cell.getByTestId('classification-report').innerText()), 30_000);
    assert.equal(await matrix.locator('tbody tr').count(), 15, 'one row per Brown genre');
    const total = await matrix.locator('tbody td').evaluateAll((tds) => tds.reduce((a, td) => a + Number(td.textContent || 0), 0));
    assert.equal(total, 200, 'the same 200 held-out passages as the full run');
    await saveScreenshot(page, cell, 'finetune-lora-result');
  }, 300_000);

  step('Export of the LoRA classifier: a verified BertForSequenceClassification bundle with the 15 genres as its labels and the adapter beside it', async () => {
    const table = finetuneCell().getByRole('table', { name: 'export the classifier' });
    const runId = (await table.locator('td.mono').first().innerText()).trim();
    await table.getByRole('button', { name: 'Export', exact: true }).click();
    const details = table.getByLabel(`bundle of ${runId}`);
    await details.waitFor({ timeout: 120_000 });
    assert.match(await details.innerText(), new RegExp(`Exported checkpoint step-0*20 as BertForSequenceClassification to ${runId}/`));
    assert.equal(await details.getByText('pass', { exact: true }).count(), 3, 'safetensors and both ONNX graphs reproduce the class logits');
    const bundle = path.join(workbench.workspace, 'bundles', runId);
    const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { architectures: string[]; id2label: Record<string, string> };
    assert.equal(Object.keys(config.id2label).length, 15);
    assert.ok(Object.values(config.id2label).includes('humor'));
    assert.ok(fs.existsSync(path.join(bundle, 'adapter', 'adapter_config.json')), 'the PEFT adapter beside the merged model');
    await saveScreenshot(page, table, 'finetune-export');
  }, 180_000);

  step('both runs are recorded in the experiment file; their folders compare full with LoRA on the same test split', async () => {
    await page.keyboard.press('ControlOrMeta+S');
    type Doc = { cells: { kind: string; runs?: { runId: string; status: string }[]; finetune?: { loop?: { steps?: number } } }[] };
    const ft = await until('the file saved with both runs', async () => {
      const doc = JSON.parse(fs.readFileSync(path.join(workbench.workspace, FILE), 'utf8')) as Doc;
      const cell = doc.cells.find((c) => c.kind === 'finetune');
      return cell?.runs?.length === 2 && cell.runs.every((r) => r.status === 'completed') && cell.finetune?.loop?.steps === 20 ? cell : undefined;
    }, 10_000);
    const runsDir = path.join(workbench.workspace, FILE.replace(/\.experiment\.json$/, '.runs'));
    const byMethod = Object.fromEntries(ft!.runs!.map((r) => {
      const run = JSON.parse(fs.readFileSync(path.join(runsDir, r.runId, 'run.json'), 'utf8')) as { config: { finetune: { method: string; lora: { r: number; targetModules?: string[] } } } };
      const report = JSON.parse(fs.readFileSync(path.join(runsDir, r.runId, 'eval', 'classification.json'), 'utf8')) as { accuracy: number; examples: number; step: number };
      return [run.config.finetune.method, { report, r: run.config.finetune.lora.r, targetModules: run.config.finetune.lora.targetModules }];
    }));
    assert.deepEqual(Object.keys(byMethod).sort(), ['full', 'lora']);
    assert.equal(byMethod.lora.r, 4, 'the rank set in the cell');
    assert.deepEqual(byMethod.lora.targetModules, ['query', 'value'], 'the targets picked in the cell');
    for (const m of ['full', 'lora']) assert.equal(byMethod[m].report.step, 20, `${m} evaluated at its last step`);
    assert.equal(byMethod.full.report.examples, byMethod.lora.report.examples, 'both judged on the same test passages');
    await saveScreenshot(page, finetuneCell().getByTestId('chart-accuracy'), 'finetune-compare');
    // the runs side by side: method, the accuracy each run's report holds, the share it trains
    const table = finetuneCell().getByTestId('finetune-runs');
    await until('both runs in the side-by-side table', async () => (await table.locator('tbody tr').count()) === 2 && !(await table.innerText()).includes('—'), 10_000);
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const byLabel = Object.fromEntries(rows.map((r) => [r[1], r]));
    assert.deepEqual(Object.keys(byLabel).sort(), ['LoRA r 4 (query, value)', 'full']);
    for (const [label, method] of [['full', 'full'], ['LoRA r 4 (query, value)', 'lora']] as const) {
      assert.equal(byLabel[label][2], `${(100 * byMethod[method].report.accuracy).toFixed(1)}%`, `${label}: the accuracy of its report`);
    }
    assert.equal(byLabel.full[5], '100.00%');
    assert.ok(Number(byLabel['LoRA r 4 (query, value)'][5].replace('%', '')) < 100, 'LoRA trains a part of the model');
    await saveScreenshot(page, table, 'finetune-runs');
  });
});
