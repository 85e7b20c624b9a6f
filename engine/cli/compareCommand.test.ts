/**
 * `workbench compare` as a user meets it, a real process: on a tiny GPT with a variant beside it, the variants
 * are found, a JSON line per model comes as it is measured, then the summary naming the files; bad flags get
 * the usage and exit 2.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeVariant } from '../compare/variantRuns.testing';
import { TINY_GPT, tinyRun } from '../inspect/tinyRuns.testing';
import { useBackend } from '../testing';

const BIN = path.resolve(import.meta.dirname, '../../bin/workbench.js');
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, 'compare', ...args], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: path.join(os.tmpdir(), 'wb-compare-cli-cache') } });

describe('workbench compare', () => {
  let baseDir = '';
  before(async () => {
    await useBackend('cpu');
    baseDir = await tinyRun(fs.mkdtempSync(path.join(os.tmpdir(), 'wb-compare-cli-')), TINY_GPT);
    await writeVariant(baseDir, { id: 'v-half', compress: { method: 'distill' }, model: { nLayers: 1 } });
  });

  it('measures the base and the variants it finds beside it, a JSON line per model, then the files', () => {
    const r = cli([baseDir, '--eval-batches', '1', '--batch-size', '2', '--backend', 'cpu', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; row?: { runId: string; method: string }; done?: number; total?: number; json_file?: string; rows?: number });
    const rows = lines.filter((l) => l.type === 'row');
    assert.deepEqual(rows.map((l) => [l.row!.runId, l.row!.method, l.done, l.total]), [[path.basename(baseDir), 'base', 1, 2], ['v-half', 'distill', 2, 2]]);
    const summary = lines.at(-1)!;
    assert.equal(summary.type, 'summary');
    assert.equal(summary.json_file, path.join(baseDir, 'compare', 'comparison.json'));
    assert.equal(summary.rows, 2);
    assert.ok(fs.existsSync(path.join(baseDir, 'compare', 'comparison.csv')));
  });

  it('refuses bad flags with the usage, exit 2', () => {
    const r = cli([baseDir, '--batch-size', '99']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--batch-size is at most 32/);
    assert.equal(cli([]).status, 2);
  });
});
