/**
 * dataset.upload through the host's API, on real files in a temporary browser-mode workspace (no engine
 * needed): where the file lands and what the cell stores, and every refusal — too large, empty, binary,
 * not UTF-8, a name with a folder part, a file already there, a data folder that links out of the
 * workspace, an experiment not saved yet — each leaving nothing behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UPLOAD_MAX_BYTES, safeDataFileName } from '../../common/dataUpload';
import { EngineError } from '../../common/errors';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../../common/experiment';
import { createWorkbenchHost, type WorkbenchHost } from './workbenchHost';

let tmp: string;
let workspace: string;
let outside: string;
let host: WorkbenchHost;
let experiment: string;

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64');
const upload = (name: string, data: string | Buffer, extra: { overwrite?: boolean; experimentPath?: string } = {}) =>
  host.call('dataset.upload', { experimentPath: experiment, name, contentBase64: b64(data), ...extra });

async function refusal(p: Promise<unknown>, code: string, words: RegExp): Promise<EngineError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof EngineError, `an EngineError, not ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, words);
    return err;
  }
  assert.fail('expected a refusal');
}

/** Every file under the data folder, temporaries (hidden) included. */
const dataFiles = () => (fs.existsSync(path.join(workspace, 'exp', 'data')) ? fs.readdirSync(path.join(workspace, 'exp', 'data')).sort() : []);

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'host-data-'));
  workspace = path.join(tmp, 'ws');
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(path.join(workspace, 'exp'), { recursive: true });
  fs.mkdirSync(outside);
  experiment = path.join(workspace, 'exp', 'e.experiment.json');
  fs.writeFileSync(experiment, JSON.stringify({ format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'e', cells: [] }));
  host = createWorkbenchHost({ configDir: path.join(tmp, 'config'), workspaceRoot: workspace, startEngine: false });
});
after(async () => {
  await host.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('dataset.upload', () => {
  it('writes the file into data/ beside the experiment and answers the path the cell stores, relative to it', async () => {
    const text = 'First Citizen:\nBefore we proceed any further, hear me speak.\n';
    const r = await upload('tiny shakespeare.txt', text);
    assert.deepEqual(r, { path: 'data/tiny shakespeare.txt', bytes: Buffer.byteLength(text), unchanged: false });
    assert.equal(fs.readFileSync(path.join(path.dirname(experiment), r.path), 'utf8'), text);
    assert.deepEqual(dataFiles(), ['tiny shakespeare.txt'], 'no temporary file is left');
  });

  it('never writes over a different file of the same name unless asked; the same bytes again are taken as they are', async () => {
    await upload('a.txt', 'the first text of a');
    const mtime = fs.statSync(path.join(workspace, 'exp', 'data', 'a.txt')).mtimeMs;
    const e = await refusal(upload('a.txt', 'another text'), 'BUSY', /data\/a\.txt: already exists with other content.*rename the file you add, or replace/);
    assert.deepEqual(e.path, ['overwrite']);
    assert.equal(fs.readFileSync(path.join(workspace, 'exp', 'data', 'a.txt'), 'utf8'), 'the first text of a');
    assert.deepEqual(await upload('a.txt', 'the first text of a'), { path: 'data/a.txt', bytes: 19, unchanged: true });
    assert.equal(fs.statSync(path.join(workspace, 'exp', 'data', 'a.txt')).mtimeMs, mtime, 'the same bytes are not written again');
    assert.equal((await upload('a.txt', 'another text', { overwrite: true })).unchanged, false);
    assert.equal(fs.readFileSync(path.join(workspace, 'exp', 'data', 'a.txt'), 'utf8'), 'another text');
    assert.ok(!dataFiles().some((f) => f.startsWith('.')), 'no temporary file is left');
  });

  it('refuses what no dataset could be read from, in the words the engine uses, writing nothing', async () => {
    const before = dataFiles();
    await refusal(upload('big.txt', Buffer.alloc(UPLOAD_MAX_BYTES + 1, 'a')), 'INVALID_DATASET', /big\.txt: is 10\.0 MiB, over the 10\.0 MiB .* copy it into the workspace folder yourself/);
    await refusal(upload('empty.txt', ''), 'INVALID_DATASET', /empty\.txt: is empty/);
    await refusal(upload('model.bin', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 1, 2])), 'INVALID_DATASET', /model\.bin: looks binary \(a NUL byte at offset 4\)/);
    await refusal(upload('latin1.txt', Buffer.from(Array.from({ length: 200 }, (_, i) => (i % 2 ? 0xe9 : 0x41)))), 'INVALID_DATASET', /latin1\.txt: looks binary or is not UTF-8 .*convert it to UTF-8/);
    await refusal(upload('utf16.txt', Buffer.from('\ufeffhello', 'utf16le')), 'INVALID_DATASET', /utf16\.txt: is UTF-16 text; save it as UTF-8/);
    await refusal(host.call('dataset.upload', { experimentPath: experiment, name: 'x.txt', contentBase64: 'not base64!' }), 'INVALID_DATASET', /did not arrive as base64/);
    assert.deepEqual(dataFiles(), before);
  });

  it('takes a plain file name only: no folder part, no hidden file', async () => {
    for (const name of ['../escape.txt', '..', 'sub/x.txt', 'sub\\x.txt', '.hidden', '/etc/passwd', 'x.txt ']) {
      await refusal(upload(name, 'some text here'), 'BAD_MESSAGE', /name: not a plain file name/);
    }
    assert.ok(!fs.existsSync(path.join(workspace, 'exp', 'escape.txt')) && !fs.existsSync(path.join(workspace, 'escape.txt')));
    // the page turns a picked file's name into one the host takes
    assert.equal(safeDataFileName('my data [1].txt'), 'my data -1-.txt');
    assert.equal(safeDataFileName('C:\\Users\\me\\input.txt'), 'input.txt');
    assert.equal(safeDataFileName('../../.bashrc'), 'bashrc');
    assert.equal(safeDataFileName('...'), null);
  });

  it('refuses a data folder that links out of the workspace, and an experiment that is not saved', async () => {
    const other = path.join(workspace, 'linked');
    fs.mkdirSync(other);
    const linkedExperiment = path.join(other, 'l.experiment.json');
    fs.copyFileSync(experiment, linkedExperiment);
    fs.symlinkSync(outside, path.join(other, 'data'));
    await refusal(upload('x.txt', 'some text here', { experimentPath: linkedExperiment }), 'BAD_MESSAGE', /outside the workspace/);
    assert.deepEqual(fs.readdirSync(outside), []);
    await refusal(upload('x.txt', 'some text here', { experimentPath: path.join(workspace, 'exp', 'unsaved.experiment.json') }), 'INVALID_DATASET', /save the experiment first/);
    await refusal(upload('x.txt', 'some text here', { experimentPath: path.join(outside, 'e.experiment.json') }), 'BAD_MESSAGE', /outside the workspace/);
  });
});
