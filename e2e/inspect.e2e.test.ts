/**
 * The inspect cell as a user drives it, in Debian's Chromium against browser mode: a small character GPT
 * trains briefly from the page (several checkpoints kept), an inspect cell is added and bound to the run,
 * a sentence is typed and its model view drawn (every layer × head), a head is opened (token-by-token map,
 * hover read-out, several queries selected), the lines view is shown, and the checkpoint slider replays the
 * head over the run's checkpoints beside its statistics over training. The cell's choices land in the
 * experiment file; undo takes a view change back. Screenshots: e2e/screenshots/inspect-*.png (README).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../common/experiment';
import { addInspectCell, endSession, makeWorkspace, openExperiment, saveScreenshot, startSession, stepWithFailureShot, until, type RunningWorkbench } from './harness';

const FILE = 'inspect.experiment.json';
const SENTENCE = 'ROMEO: But soft, what light through yonder window breaks?';
const STEPS = 400;
const experiment = {
  format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'inspect e2e',
  cells: [
    { id: 'data', kind: 'dataset', dataset: { source: { kind: 'file', path: 'tiny.txt', unit: 'file' }, split: 'tail' }, tokenizer: { kind: 'char' } },
    { id: 'model', kind: 'model', model: { arch: 'gpt', contextLength: 64, dModel: 48, nHeads: 4, nLayers: 2, dropout: 0 } },
    { id: 'pretrain', kind: 'pretrain', pretrain: { steps: STEPS, batchSize: 16, optimizer: { lr: 3e-3 }, evalInterval: 50, evalBatches: 2, checkpointInterval: 50, keepCheckpoints: 10, schedule: { warmupSteps: 20 } }, runs: [] },
  ],
};

let workbench: RunningWorkbench;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

const inspectCell = () => page.getByRole('region', { name: /^Inspect cell / });
const pretrainCell = () => page.getByRole('region', { name: 'Pretrain cell pretrain' });

const shot = (name: string, target: Locator) => saveScreenshot(page, target, name);

/** How many distinct colours a canvas shows: a drawn heatmap has many, a blank one one or two. */
interface PageCanvas { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }
const canvasColours = (canvas: Locator) => canvas.evaluate((el) => {
  const c = el as unknown as PageCanvas;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set<number>();
  for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return seen.size;
});

const step = stepWithFailureShot(() => page, 'failed-inspect-');

describe('the inspect cell in a browser', { timeout: 600_000 }, () => {
  before(async () => {
    const workspace = makeWorkspace('tiny.txt', 200_000);
    fs.writeFileSync(path.join(workspace, FILE), JSON.stringify(experiment, null, 2));
    ({ workbench, browser, page } = await startSession(workspace, consoleErrors));
  });

  after(() => endSession({ workbench, browser }, consoleErrors, 'inspect'));

  step('a small character GPT trains briefly from the page', async () => {
    await openExperiment(page, workbench.url, FILE);
    await pretrainCell().getByRole('button', { name: /Run$/ }).click();
    const row = pretrainCell().getByRole('table', { name: 'runs', exact: true }).getByRole('row').nth(1);
    await until('the run to complete', async () => /completed/.test(await row.innerText()), 240_000, 500);
  }, 300_000);

  step('an inspect cell bound to the run shows every layer × head of a typed sentence', async () => {
    const cell = await addInspectCell(page, 3);
    await cell.getByLabel('Text', { exact: true }).fill(SENTENCE);
    await cell.getByRole('button', { name: /Show/ }).click();
    const grid = cell.getByTestId('model-grid');
    await grid.waitFor({ timeout: 60_000 });
    assert.match(await cell.getByTestId('inspect-where').innerText(), new RegExp(`step ${STEPS} · ${SENTENCE.length} tokens`));
    assert.equal(await grid.getAttribute('aria-label'), '2 layers × 4 heads');
    assert.ok(await canvasColours(grid) > 30, 'the thumbnails are drawn');
    await cell.getByLabel('Statistic', { exact: true }).selectOption('previousToken');
    await grid.hover({ position: { x: 10, y: 10 } });
    await until('the read-out of head 0.0', async () => /layer 0 head 0: previous-token score \d/.test(await cell.getByTestId('model-readout').innerText()), 5_000);
    await shot('inspect-model-view', cell);
  });

  step('a click opens a head: a token-by-token map with hover read-outs and several queries selected', async () => {
    const cell = inspectCell();
    const grid = cell.getByTestId('model-grid');
    const box = (await grid.boundingBox())!;
    // rows are layers, columns heads: layer 1, head 2
    await grid.click({ position: { x: box.width * (2.5 / 4), y: box.height * 0.75 } });
    const map = cell.getByTestId('head-map');
    await map.waitFor();
    assert.match(await cell.getByTestId('head-title').innerText(), /layer 1 head 2/);
    await until('the map drawn', async () => (await canvasColours(map)) > 30, 10_000);
    const mb = (await map.boundingBox())!;
    // label margins of 84 px; 58 tokens in cells of min(36, floor(size / T)) px
    const side = Math.min(mb.width - 84 - 8, mb.height - 84 - 36);
    const cellPx = side / SENTENCE.length;
    const at = (q: number, k: number) => ({ x: 84 + (k + 0.5) * cellPx, y: 84 + (q + 0.5) * cellPx });
    await map.hover({ position: at(10, 3) });
    const readout = `query 10 ${JSON.stringify(SENTENCE[10])} → key 3 ${JSON.stringify(SENTENCE[3])}: `;
    await until('a read-out of the cell under the pointer', async () => (await cell.getByTestId('head-readout').innerText()).startsWith(readout), 5_000);
    await map.hover({ position: at(3, 10) });
    await until('a masked cell said to be masked', async () => /masked/.test(await cell.getByTestId('head-readout').innerText()), 5_000);
    await map.click({ position: at(20, 0) });
    await map.click({ position: at(40, 0), modifiers: ['Shift'] });
    await until('two queries selected', async () => /2 selected/.test(await cell.getByTestId('head-title').innerText()), 5_000);
    await shot('inspect-head-view', cell);
  });

  step('the lines view links the selected queries to their keys; undo takes the view change back', async () => {
    const cell = inspectCell();
    await cell.getByRole('tab', { name: 'Lines' }).click();
    const lines = cell.getByTestId('lines-view');
    await lines.waitFor();
    assert.match(await cell.getByTestId('lines-readout').innerText(), /^".*" \+ ".*" → strongest key/);
    await until('lines drawn', async () => (await canvasColours(lines)) > 10, 10_000);
    await shot('inspect-lines-view', cell);
    await cell.getByTestId('inspect-where').click();
    await page.keyboard.press('ControlOrMeta+Z');
    await cell.getByTestId('head-map').waitFor({ timeout: 5_000 });
    assert.equal(await cell.getByRole('tab', { name: 'Head' }).getAttribute('aria-selected'), 'true');
  });

  step('the checkpoint slider replays the head over the run\'s checkpoints, beside its statistics over training', async () => {
    const cell = inspectCell();
    const replay = cell.getByTestId('replay');
    const slider = replay.getByLabel('checkpoint');
    const max = Number(await slider.getAttribute('max'));
    assert.ok(max >= 5, `several checkpoints: ${max + 1}`);
    await until('the last checkpoint drawn', async () => (await canvasColours(replay.getByTestId('replay-map'))) > 20, 30_000);
    const last = await replay.getByTestId('replay-map').screenshot();
    await slider.fill('0');
    await until('the first checkpoint', async () => /step 50$/.test(await replay.getByTestId('replay-step').innerText()), 5_000);
    await until('its map drawn', async () => !(await replay.getByTestId('replay-map').screenshot()).equals(last), 30_000);
    await replay.getByTestId('head-curves').waitFor();
    assert.ok(await replay.getByTestId('head-curves').locator('polyline').count() >= 5, 'validation loss, entropy, distance, first-token, previous-token, induction curves');
    assert.equal(await replay.getByRole('img', { name: 'validation loss' }).count(), 1, 'the loss beside the head\'s statistics');
    await replay.getByRole('button', { name: 'Compute all checkpoints' }).click();
    await until('every checkpoint computed', async () => (await replay.getByRole('button', { name: 'Compute all checkpoints' }).count()) === 1 && (await replay.getByRole('progressbar').count()) === 0, 60_000);
    await slider.fill(String(Math.floor(max / 2)));
    await until('the middle checkpoint', async () => /step \d+$/.test(await replay.getByTestId('replay-step').innerText()), 5_000);
    await shot('inspect-slider', replay);
  });

  step('the head view exports as PNG and its numbers as JSON', async () => {
    const cell = inspectCell();
    const save = async (button: string) => {
      const [download] = await Promise.all([page.waitForEvent('download'), cell.getByRole('button', { name: button, exact: true }).click()]);
      return { name: download.suggestedFilename(), bytes: fs.readFileSync((await download.path())!) };
    };
    const png = await save('PNG');
    assert.match(png.name, /-head-L1H2\.png$/);
    assert.deepEqual([...png.bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG file');
    const json = await save('JSON');
    const numbers = JSON.parse(json.bytes.toString('utf8')) as { layer: number; head: number; tokens: string[]; queries: number[]; attention: number[][]; summed: number[] };
    assert.deepEqual([numbers.layer, numbers.head, numbers.queries], [1, 2, [20, 40]]);
    assert.equal(numbers.tokens.join(''), SENTENCE);
    assert.equal(numbers.attention.length, SENTENCE.length);
    assert.ok(numbers.attention.every((row) => Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4), 'rows of probabilities');
    const summed = numbers.attention[20].map((p, k) => p + numbers.attention[40][k]);
    assert.ok(numbers.summed.every((v, k) => Math.abs(v - summed[k]) < 1e-5), 'the summed row is the selected rows\' sum');
  });

  step('the cell\'s choices are in the experiment file once saved', async () => {
    await page.keyboard.press('ControlOrMeta+S');
    const file = path.join(workbench.workspace, FILE);
    const cellOnDisk = await until('the inspect cell on disk', async () => {
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Record<string, unknown>[] };
      return doc.cells.find((c) => c.kind === 'inspect' && c.view === 'head');
    }, 15_000) as Record<string, unknown>;
    assert.equal(cellOnDisk.text, SENTENCE);
    assert.equal(cellOnDisk.view, 'head');
    assert.deepEqual([cellOnDisk.layer, cellOnDisk.head, cellOnDisk.statistic], [1, 2, 'previousToken']);
    assert.deepEqual(cellOnDisk.queries, [20, 40]);
    assert.match(String(cellOnDisk.runId), /\S/);
    assert.deepEqual(consoleErrors.filter((e) => !/favicon/.test(e)), []);
  });
});
