/**
 * Experiment files through the host's API, on real files in a temporary folder (no engine needed):
 * open and save round trips, atomic saves, refusals that never write, mtime conflicts, the recent list,
 * templates, and the workspace guard of browser mode.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineError } from '../../common/errors';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../../common/experiment';
import { WORKBENCH_STATE_FILE, emptyWorkbenchState } from '../../common/workbenchState';
import { createWorkbenchHost, type WorkbenchHost } from './workbenchHost';

let tmp: string;
let host: WorkbenchHost;

const experiment = (name = 'tiny', extra: Record<string, unknown> = {}) => ({
  format: EXPERIMENT_FORMAT,
  version: EXPERIMENT_VERSION,
  name,
  cells: [
    { id: 'notes', kind: 'notes', markdown: '# hello' },
    { id: 'data', kind: 'dataset', dataset: { source: { kind: 'corpus', corpus: 'brown', genres: ['humor'] } }, tokenizer: { kind: 'char' } },
    { id: 'model', kind: 'model', model: { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2 } },
    { id: 'pretrain', kind: 'pretrain', pretrain: { steps: 10, schedule: { warmupSteps: 2 } }, runs: [{ runId: 'r1', status: 'completed' }] },
  ],
  ...extra,
});

function write(file: string, value: unknown): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

async function refusal(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof EngineError, `an EngineError, not ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'host-files-'));
  host = createWorkbenchHost({ configDir: path.join(tmp, 'config'), startEngine: false });
});
after(async () => {
  await host.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('experiments.open / save', () => {
  it('opens, saves atomically with the mtime check, and remembers the file as recent', async () => {
    const file = write(path.join(tmp, 'a', 'tiny.experiment.json'), experiment());
    const opened = await host.call('experiments.open', { path: file });
    assert.equal(opened.path, file);
    assert.equal(opened.migratedFrom, undefined);
    assert.equal((opened.doc as { name: string }).name, 'tiny');
    const doc = { ...opened.doc, name: 'tiny, renamed' };
    const saved = await host.call('experiments.save', { path: file, doc, expectedMtimeMs: opened.mtimeMs });
    assert.equal(saved.mtimeMs, fs.statSync(file).mtimeMs);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).name, 'tiny, renamed');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['tiny.experiment.json'], 'no temporary file is left behind');
    // the mtime a save returns is the one the next save checks against
    await host.call('experiments.save', { path: file, doc: { ...doc, name: 'again' }, expectedMtimeMs: saved.mtimeMs });
    assert.deepEqual(await host.call('experiments.recent', {}), [file]);
    const recentJson = JSON.parse(fs.readFileSync(path.join(tmp, 'config', 'recent.json'), 'utf8'));
    assert.deepEqual(recentJson.paths, [file]);
  });

  it('clears the temporaries a killed save left beside the file, and no other writer\'s', async () => {
    const file = write(path.join(tmp, 'temps', 'tiny.experiment.json'), experiment());
    const dir = path.dirname(file);
    const deadPid = 2 ** 22 + 4321; // above any pid_max: no such process
    const left = `.tiny.experiment.json.tmp-${deadPid}-1-abcdef`;
    const live = `.tiny.experiment.json.tmp-${process.ppid}-7-abcdef`; // a writer that may still rename it
    const other = `.other.experiment.json.tmp-${deadPid}-1-abcdef`;
    for (const n of [left, live, other]) fs.writeFileSync(path.join(dir, n), '{"half": ');
    const opened = await host.call('experiments.open', { path: file });
    await host.call('experiments.save', { path: file, doc: opened.doc, expectedMtimeMs: opened.mtimeMs });
    assert.deepEqual(fs.readdirSync(dir).sort(), [live, other, 'tiny.experiment.json'].sort());
  });

  it('refuses a save when another writer changed the file since it was opened, unless the save is forced', async () => {
    const file = write(path.join(tmp, 'b', 'x.experiment.json'), experiment('x'));
    const opened = await host.call('experiments.open', { path: file });
    const theirs = JSON.stringify(experiment('written by another program'));
    fs.writeFileSync(file, theirs);
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000)); // a different mtime even on coarse clocks
    const err = await refusal(host.call('experiments.save', { path: file, doc: { ...opened.doc, name: 'mine' }, expectedMtimeMs: opened.mtimeMs }));
    assert.equal(err.code, 'BUSY');
    assert.match(err.message, /changed on disk since it was opened/);
    assert.ok(err.message.includes(file));
    assert.equal(fs.readFileSync(file, 'utf8'), theirs, 'their version stands');
    await host.call('experiments.save', { path: file, doc: { ...opened.doc, name: 'mine' } });
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).name, 'mine');
  });

  it('refuses a file from a newer version with a message naming it, and never writes over it', async () => {
    const file = write(path.join(tmp, 'c', 'future.experiment.json'), { ...experiment('future'), version: 99, cells: [{ kind: 'hologram' }] });
    const before = fs.readFileSync(file, 'utf8');
    const err = await refusal(host.call('experiments.open', { path: file }));
    assert.equal(err.code, 'INVALID_CONFIG');
    assert.ok(err.message.includes(file), err.message);
    assert.match(err.message, /format version 99, written by a newer Transformer Workbench/);
    const save = await refusal(host.call('experiments.save', { path: file, doc: experiment('overwrite') }));
    assert.match(save.message, /never writes over a file it could not read/);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
  });

  it('refuses malformed files (not JSON, a bad cell) and never writes over them, even on a forced save by another window', async () => {
    const notJson = write(path.join(tmp, 'd', 'broken.experiment.json'), '{"format": "transformer-workbench.experiment", "version": 1, "cells": [');
    const err = await refusal(host.call('experiments.open', { path: notJson }));
    assert.match(err.message, /is not valid JSON/);
    assert.ok(err.message.includes(notJson));
    await refusal(host.call('experiments.save', { path: notJson, doc: experiment() }));
    assert.match(fs.readFileSync(notJson, 'utf8'), /"cells": \[$/);

    const badCell = write(path.join(tmp, 'd', 'badcell.experiment.json'), experiment('bad', { cells: [{ id: 'm', kind: 'model', model: { arch: 'gpt', dModel: 30, nHeads: 4 } }] }));
    const e2 = await refusal(host.call('experiments.open', { path: badCell }));
    assert.match(e2.message, /cells\.0\.model/);
    // a second host (another window) never opened it: its forced save checks the file on disk first
    const other = createWorkbenchHost({ configDir: path.join(tmp, 'config2'), startEngine: false });
    const e3 = await refusal(other.call('experiments.save', { path: badCell, doc: experiment() }));
    assert.match(e3.message, /not written over/);
    await other.dispose();
    assert.equal(JSON.parse(fs.readFileSync(badCell, 'utf8')).name, 'bad');
  });

  it('writes only NAME.experiment.json files, and never over a file that is not an experiment, even with its exact mtime', async () => {
    const notes = write(path.join(tmp, 'f', 'notes.experiment.json'), 'my notes, not JSON');
    const mtimeMs = fs.statSync(notes).mtimeMs; // what a caller could guess from BUSY refusals
    const err = await refusal(host.call('experiments.save', { path: notes, doc: experiment(), expectedMtimeMs: mtimeMs }));
    assert.match(err.message, /not written over/);
    assert.equal(fs.readFileSync(notes, 'utf8'), 'my notes, not JSON');

    const rc = write(path.join(tmp, 'f', '.bashrc'), 'alias ls=ls');
    for (const p of [rc, path.join(tmp, 'f', 'new.json'), path.join(tmp, 'f', '.experiment.json')]) {
      const e = await refusal(host.call('experiments.save', { path: p, doc: experiment() }));
      assert.match(e.message, /experiment files are named NAME\.experiment\.json/, p);
    }
    assert.equal(fs.readFileSync(rc, 'utf8'), 'alias ls=ls');
    assert.equal(fs.existsSync(path.join(tmp, 'f', 'new.json')), false);
  });

  it('validates the document before writing, and names the field', async () => {
    const file = path.join(tmp, 'e', 'new.experiment.json');
    fs.mkdirSync(path.dirname(file));
    const err = await refusal(host.call('experiments.save', { path: file, doc: experiment('n', { cells: [{ id: 'p', kind: 'pretrain', pretrain: { steps: -1 } }] }) }));
    assert.equal(err.code, 'INVALID_CONFIG');
    assert.match(err.message, /cells\.0\.pretrain\.steps/);
    assert.equal(fs.existsSync(file), false);
    const bad = await refusal(host.call('experiments.save', { path: file }));
    assert.equal(bad.code, 'BAD_MESSAGE');
    assert.match(bad.message, /experiments\.save: doc/);
  });

  it('keeps working when recent.json is damaged', async () => {
    const h = createWorkbenchHost({ configDir: path.join(tmp, 'config3'), startEngine: false });
    write(path.join(tmp, 'config3', 'recent.json'), '{ nope');
    assert.deepEqual(await h.call('experiments.recent', {}), []);
    const file = write(path.join(tmp, 'f', 'r.experiment.json'), experiment('r'));
    await h.call('experiments.open', { path: file });
    assert.deepEqual(await h.call('experiments.recent', {}), [file]);
    await h.dispose();
  });
});

/** a dataset cell's preview as version 1 kept it in the file: an absolute path of this machine and a time */
const previewOf = (source: string) => ({
  stats: { source, documentsRead: 1, train: { documents: 1, sentences: 9, chars: 900, tokens: 900 }, validation: { documents: 1, sentences: 1, chars: 100, tokens: 100 }, labels: {}, buildMs: 5 },
  cleaning: { documentsIn: 1, documentsOut: 1, steps: [] },
  lengthHistogram: { bounds: [16, 64], counts: [1, 1] },
  vocabSize: 65,
  configHash: 'abc123',
  at: '2026-11-25T10:00:00.000Z',
});

/** opens `file` and saves what it got back, unedited, as the UI does */
async function openAndSave(file: string): Promise<void> {
  const opened = await host.call('experiments.open', { path: file });
  await host.call('experiments.save', { path: file, doc: opened.doc, expectedMtimeMs: opened.mtimeMs });
}

describe('a tidy experiment file', () => {
  it('open, then save without edits, changes no byte of the examples, nor of a file with runs', async () => {
    const examples = fs.readdirSync(new URL('../../experiments/', import.meta.url)).filter((n) => n.endsWith('.experiment.json'));
    assert.ok(examples.length >= 2, examples.join(', '));
    const files = examples.map((n) => write(path.join(tmp, 'tidy', n), fs.readFileSync(new URL(`../../experiments/${n}`, import.meta.url), 'utf8')));
    // a file as the workbench writes it after a run: its reference in the pretrain cell, no defaults spelled out
    const withRun = path.join(tmp, 'tidy', 'ran.experiment.json');
    write(withRun, experiment('ran'));
    await openAndSave(withRun);
    files.push(withRun);
    for (const file of files) {
      const before = fs.readFileSync(file);
      await openAndSave(file);
      assert.ok(fs.readFileSync(file).equals(before), `${path.basename(file)} changed on an unedited save:\n${fs.readFileSync(file, 'utf8')}`);
    }
    // nothing was added: the defaults the schemas fill in stay out of the file (the growth of a first autosave)
    assert.doesNotMatch(fs.readFileSync(withRun, 'utf8'), /"(cleaning|seed|validationFraction)"/);
  });

  it('moves a version 1 file\'s preview beside it: no absolute path or time in the file, open-save stable after', async () => {
    const dir = path.join(tmp, 'v1');
    const file = path.join(dir, 'old.experiment.json');
    const v1 = experiment('old', { version: 1 });
    const cells = v1.cells as Record<string, unknown>[];
    cells[1] = { ...cells[1], summary: previewOf(path.join(dir, 'tiny.txt')) };
    write(file, v1);
    const opened = await host.call('experiments.open', { path: file });
    assert.equal(opened.migratedFrom, 1);
    assert.ok(!JSON.stringify(opened.doc).includes('summary'), 'the document has no preview');
    assert.deepEqual(opened.state.previews.data, previewOf(path.join(dir, 'tiny.txt')), 'the preview moved into the state');
    await host.call('experiments.save', { path: file, doc: opened.doc, expectedMtimeMs: opened.mtimeMs });
    await host.call('experiments.saveState', { path: file, state: opened.state });
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /"version": 2/);
    assert.doesNotMatch(text, new RegExp(`${tmp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|2026-11-25|"summary"`), 'no path of this machine, no time');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'old.runs', WORKBENCH_STATE_FILE), 'utf8')).previews.data.vocabSize, 65);
    const again = await host.call('experiments.open', { path: file });
    assert.equal(again.migratedFrom, undefined);
    assert.equal(again.state.previews.data?.vocabSize, 65, 'the preview comes back from beside the file');
    await openAndSave(file);
    assert.equal(fs.readFileSync(file, 'utf8'), text);
  });

  it('keeps overlay choices beside the file, and opens with a warning, not a refusal, when that state is damaged', async () => {
    const dir = path.join(tmp, 'state');
    const file = write(path.join(dir, 'st.experiment.json'), experiment('st'));
    const state = { ...emptyWorkbenchState(), overlay: { pretrain: { r1: true, r0: false } } };
    await host.call('experiments.saveState', { path: file, state });
    assert.deepEqual((await host.call('experiments.open', { path: file })).state, state);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'st.runs')), [WORKBENCH_STATE_FILE], 'written atomically: no temporary file left');
    const stateFile = path.join(dir, 'st.runs', WORKBENCH_STATE_FILE);
    for (const damage of ['{ not json', JSON.stringify({ ...state, overlay: { pretrain: { r1: 'yes' } } })]) {
      fs.writeFileSync(stateFile, damage);
      const opened = await host.call('experiments.open', { path: file });
      assert.deepEqual(opened.state, emptyWorkbenchState());
      assert.match(opened.stateWarning ?? '', /workbench-state\.json: .*(not valid JSON|overlay\.pretrain\.r1).*ignored/);
    }
    // a state is kept only beside a saved experiment
    const missing = await refusal(host.call('experiments.saveState', { path: path.join(dir, 'none.experiment.json'), state }));
    assert.match(missing.message, /no such experiment file; save the experiment/);
    // and it is checked like anything else a caller sends
    const bad = await refusal(host.call('experiments.saveState', { path: file, state: { ...state, overlay: { pretrain: { '../x': true } } } }));
    assert.equal(bad.code, 'BAD_MESSAGE');
  });
});

describe('templates', () => {
  it('lists the repository examples and creates a fresh, unsaved experiment without their runs', async () => {
    const templates = await host.call('experiments.templates', {});
    const ids = templates.map((t) => t.id);
    assert.ok(['shakespeare-char-gpt', 'brown-bert-mini', 'brown-char-gpt'].every((id) => ids.includes(id)), ids.join(', '));
    // the Brown example names no file of the user's; the Shakespeare one tells a GUI user how to add theirs
    const sources = async (template: string) => ((await host.call('experiments.create', { template })).doc.cells as { kind: string; dataset?: { source: unknown } }[]).filter((c) => c.kind === 'dataset').map((c) => c.dataset!.source);
    assert.deepEqual(await sources('brown-char-gpt'), [{ kind: 'corpus', corpus: 'brown', as: 'text' }]);
    assert.deepEqual(await sources('shakespeare-char-gpt'), [{ kind: 'file', path: 'data/tinyshakespeare.txt', unit: 'file' }]);
    const shakespeare = templates.find((t) => t.id === 'shakespeare-char-gpt')!.description;
    assert.match(shakespeare, /drop it on the dataset cell|Add a text file/);
    assert.doesNotMatch(shakespeare, /--data/);
    const dir = path.join(tmp, 'templates');
    write(path.join(dir, 'with-runs.experiment.json'), experiment('With runs'));
    const h = createWorkbenchHost({ configDir: path.join(tmp, 'config4'), templatesDir: dir, startEngine: false });
    const { doc } = await h.call('experiments.create', { template: 'with-runs' });
    assert.equal((doc as { name: string }).name, 'With runs (new)');
    const pretrain = (doc.cells as { kind: string; runs?: unknown[] }[]).find((c) => c.kind === 'pretrain')!;
    assert.deepEqual(pretrain.runs, []);
    const err = await refusal(h.call('experiments.create', { template: '../experiments/with-runs' }));
    assert.equal(err.code, 'INVALID_CONFIG');
    await h.dispose();
  });
});

describe('browser mode workspace', () => {
  it('lists the workspace experiments and refuses every path outside it', { timeout: 60_000 }, async () => {
    const ws = path.join(tmp, 'ws');
    const inside = write(path.join(ws, 'proj', 'one.experiment.json'), experiment('one'));
    write(path.join(ws, 'proj', 'one.runs', 'r', 'x.experiment.json'), experiment('in a run folder'));
    write(path.join(ws, '.hidden', 'h.experiment.json'), experiment('hidden'));
    const outside = write(path.join(tmp, 'outside.experiment.json'), experiment('secret'));
    fs.symlinkSync(tmp, path.join(ws, 'link-out'));
    const h = createWorkbenchHost({ configDir: path.join(tmp, 'config5'), workspaceRoot: ws, startEngine: false });
    const wsReal = fs.realpathSync(ws);
    assert.deepEqual((await h.call('experiments.list', {})).map((e) => e.path), [path.join(wsReal, 'proj', 'one.experiment.json')]);
    assert.equal((await h.call('experiments.open', { path: 'proj/one.experiment.json' })).path, fs.realpathSync(inside));
    for (const p of ['../outside.experiment.json', outside, 'proj/../../outside.experiment.json', 'link-out/outside.experiment.json', '/etc/passwd']) {
      const err = await refusal(h.call('experiments.open', { path: p }));
      assert.equal(err.code, 'BAD_MESSAGE', p);
      assert.match(err.message, /outside the workspace/, p);
      const save = await refusal(h.call('experiments.save', { path: p, doc: experiment() }));
      assert.match(save.message, /outside the workspace/, p);
      await refusal(h.call('runs.list', { experimentPath: p }));
      await refusal(h.call('runs.metrics', { experimentPath: p, runId: 'r1' }));
    }
    assert.equal(JSON.parse(fs.readFileSync(outside, 'utf8')).name, 'secret');

    // a run folder inside the workspace whose files link out: not read, not quoted back
    const secretDir = path.join(tmp, 'secret-run');
    write(path.join(secretDir, 'metrics.jsonl'), '{"step":1,"wallTime":0,"tokens":1,"scalars":{"secret":42}}\n');
    write(path.join(secretDir, 'run.json'), 'SECRET-TEXT');
    const linked = path.join(ws, 'proj', 'one.runs', 'linked');
    fs.mkdirSync(linked, { recursive: true });
    for (const f of ['metrics.jsonl', 'run.json']) fs.symlinkSync(path.join(secretDir, f), path.join(linked, f));
    const m = await refusal(h.call('runs.metrics', { experimentPath: 'proj/one.experiment.json', runId: 'linked' }));
    assert.match(m.message, /outside the workspace/);
    const r = await refusal(h.call('runs.resume', { experimentPath: 'proj/one.experiment.json', runId: 'linked' }));
    assert.match(r.message, /outside the workspace/);
    const listed = (await h.call('runs.list', { experimentPath: 'proj/one.experiment.json' })).find((e) => e.id === 'linked');
    assert.ok(listed && !listed.ok && /outside the workspace/.test(listed.problem), JSON.stringify(listed));
    assert.doesNotMatch(JSON.stringify(listed) + m.message + r.message, /SECRET|secret"?:42/);

    // a dataset folder inside the workspace holding a link to a file outside it: the preview is refused
    fs.mkdirSync(path.join(ws, 'proj', 'data', 'deeper'), { recursive: true });
    write(path.join(ws, 'proj', 'data', 'a.txt'), 'inside');
    fs.symlinkSync(path.join(secretDir, 'run.json'), path.join(ws, 'proj', 'data', 'deeper', 'b.txt'));
    const pv = await refusal(h.call('dataset.preview', { dataset: { source: { kind: 'folder', path: 'data' } }, tokenizer: { kind: 'char' }, experimentPath: 'proj/one.experiment.json' }));
    assert.equal(pv.code, 'BAD_MESSAGE');
    assert.match(pv.message, /deeper\/b\.txt.*outside the workspace/);
    await h.dispose();
  });
});
