/** `--data`: which source a path becomes, and what of the experiment's source it keeps. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatasetSource } from '../../common/datasetConfig';
import { sourceForData } from './dataFlag';

let tmp: string;
let txt: string;
let jsonl: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'data-flag-'));
  txt = path.join(tmp, 'a.txt');
  jsonl = path.join(tmp, 'a.jsonl');
  fs.writeFileSync(txt, 'text');
  fs.writeFileSync(jsonl, '{"body":"text"}\n');
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const src = (s: unknown) => DatasetSource.parse(s);

describe('--data', () => {
  it('keeps the settings of a source of the same kind', () => {
    assert.deepEqual(sourceForData(txt, src({ kind: 'file', path: 'x.txt', unit: 'line' })), { kind: 'file', path: txt, unit: 'line' });
    assert.deepEqual(sourceForData(jsonl, src({ kind: 'jsonl', path: 'x.jsonl', textField: 'body', labelField: 'y' })), { kind: 'jsonl', path: jsonl, textField: 'body', labelField: 'y' });
    assert.deepEqual(sourceForData(tmp, src({ kind: 'folder', path: 'x', extensions: ['.md'], unit: 'paragraph' })), { kind: 'folder', path: tmp, extensions: ['.md'], unit: 'paragraph' });
  });

  it('makes a folder a folder source, *.jsonl a jsonl source and any other file paragraphs', () => {
    const brown = src({ kind: 'corpus', corpus: 'brown' });
    assert.deepEqual(sourceForData(tmp, brown), src({ kind: 'folder', path: tmp }));
    assert.deepEqual(sourceForData(jsonl, brown), { kind: 'jsonl', path: jsonl, textField: 'text' });
    assert.deepEqual(sourceForData(txt, brown), { kind: 'file', path: txt, unit: 'paragraph' });
    assert.deepEqual(sourceForData(txt, src({ kind: 'folder', path: 'x', unit: 'file' })), { kind: 'file', path: txt, unit: 'paragraph' });
  });
});
