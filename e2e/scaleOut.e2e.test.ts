/**
 * Scale out, as a user drives it in Debian's Chromium against browser mode: "Export for a cluster" under a pretrain
 * cell writes the PyTorch project beside the experiment (torch/pretrain/); torchrun with 2 processes (gloo, CPU)
 * trains it with ZeRO-1 into the experiment's runs folder (needs Debian's python3-torch under /usr/bin/python3, or
 * TORCH_PYTHON, as `.ci/run` installs before the e2e tests); the workbench trains the same cell; after a refresh the
 * PyTorch run is listed under the cell it came from and its curves are overlaid with the workbench's.
 * Screenshot: e2e/screenshots/scale-out.png.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../common/experiment';
import { endSession, makeWorkspace, openExperiment, saveScreenshot, startSession, stepWithFailureShot, until, type RunningWorkbench } from './harness';

const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const FILE = 'scaleout.experiment.json';
const experiment = {
  format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'scale out e2e',
  cells: [
    { id: 'data', kind: 'dataset', dataset: { source: { kind: 'file', path: 'tiny.txt', unit: 'file' }, split: 'tail' }, tokenizer: { kind: 'char' } },
    { id: 'model', kind: 'model', model: { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2, dropout: 0 } },
    { id: 'pretrain', kind: 'pretrain', pretrain: { steps: 40, batchSize: 8, optimizer: { lr: 3e-3 }, evalInterval: 20, evalBatches: 2, checkpointInterval: 20, schedule: { warmupSteps: 5 } }, runs: [] },
  ],
};

let workbench: RunningWorkbench;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

const pretrainCell = () => page.getByRole('region', { name: 'Pretrain cell pretrain' });
const runsTable = () => pretrainCell().getByRole('table', { name: 'runs', exact: true });
const step = stepWithFailureShot(() => page, 'failed-scale-out-');

describe('scale out to PyTorch and back, in a browser', { timeout: 600_000 }, () => {
  before(async () => {
    const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (probe.status !== 0) throw new Error(`${PYTHON} cannot import torch and numpy; this test needs Debian's python3-torch (apt-get install -y python3-torch libopenblas0-pthread)`);
    const workspace = makeWorkspace('tiny.txt', 60_000);
    fs.writeFileSync(path.join(workspace, FILE), JSON.stringify(experiment, null, 2));
    ({ workbench, browser, page } = await startSession(workspace, consoleErrors));
  });

  after(() => endSession({ workbench, browser }, consoleErrors, 'scale-out'));

  step('Export for a cluster writes the PyTorch project beside the experiment', async () => {
    await openExperiment(page, workbench.url, FILE);
    const box = pretrainCell().getByLabel('export for a cluster');
    await box.getByRole('button', { name: 'Export for a cluster' }).click();
    await until('the project written', async () => /PyTorch project \(gpt, causal-lm, [\d,]+ parameters\) in pretrain\//.test(await box.innerText()), 120_000);
    for (const f of ['model.py', 'train.py', 'launch.sh', 'init.safetensors', 'tokenizer.json']) assert.ok(fs.existsSync(path.join(workbench.workspace, 'torch', 'pretrain', f)), f);
  }, 180_000);

  step('torchrun ×2 with ZeRO-1 trains it into the runs folder; the workbench trains the same cell', async () => {
    const r = spawnSync('bash', [path.join(workbench.workspace, 'torch', 'pretrain', 'launch.sh'), '--zero1', '--out', path.join(workbench.workspace, 'scaleout.runs'), '--run-id', 'pytorch-zero1'], {
      encoding: 'utf8', env: { ...process.env, PYTHON, NPROC_PER_NODE: '2' }, timeout: 240_000,
    });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    await pretrainCell().getByRole('button', { name: /Run$/ }).click();
    await until('the workbench run to complete', async () => /completed/.test(await runsTable().getByRole('row').nth(1).innerText()), 240_000, 500);
  }, 420_000);

  step('the PyTorch run comes back under its cell, overlaid with the workbench\'s run', async () => {
    await page.locator('aside.sidebar').getByRole('button', { name: 'refresh' }).click();
    const row = runsTable().getByRole('row').filter({ hasText: 'pytorch-zero1' });
    await until('the PyTorch run listed under the cell', async () => (await row.count()) === 1 && /completed/.test(await row.innerText()), 30_000);
    await row.getByRole('checkbox').check();
    assert.equal(await runsTable().getByRole('checkbox', { checked: true }).count(), 2, 'both runs on the charts');
    await page.waitForTimeout(1500); // the charts draw the curves read from metrics.jsonl
    await saveScreenshot(page, pretrainCell(), 'scale-out');
  }, 120_000);
});
