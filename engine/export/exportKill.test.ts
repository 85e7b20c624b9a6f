/**
 * A killed export leaves no half bundle: `workbench export` runs as a child process and is SIGKILLed as it
 * announces a stage; afterwards --out is absent (or, killed while publishing, complete), what was written
 * lies in a hidden temporary beside it, and the next export removes that temporary and succeeds.
 *
 *   node --import tsx --test engine/export/exportKill.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isTempName } from '../../common/node/atomicWrite';
import { TINY_GPT, tinyRun } from '../inspect/tinyRuns.testing';
import { useBackend } from '../testing';
import type { ExportStage } from './exportBundle';

const WORKBENCH = path.resolve(import.meta.dirname, '../../bin/workbench.js');
const BUNDLE_FILES = 9;
let tmp: string;
let run: string;

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'export-kill-'));
  run = await tinyRun(path.join(tmp, 'gpt'), TINY_GPT);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs the export in a child and SIGKILLs it when it announces `stage` (null: lets it finish); resolves with how it ended. */
function exportUntil(out: string, stage: ExportStage | null): Promise<{ killed: boolean; code: number | null; last: string }> {
  const child = spawn(process.execPath, [WORKBENCH, 'export', run, '--out', out, '--json', '--backend', 'cpu'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let last = '';
  let killed = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    last = line;
    if (stage && (JSON.parse(line) as { stage?: string }).stage === stage) { killed = child.kill('SIGKILL'); }
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (code) => resolve({ killed, code, last: last || stderr })));
}

const temps = (out: string) => fs.readdirSync(path.dirname(out)).filter((n) => n.startsWith(`.${path.basename(out)}`) && isTempName(n));
const files = (dir: string): string[] => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);

describe('a killed export', () => {
  for (const stage of ['onnx', 'verify'] as const) {
    it(`killed as it starts '${stage}': no bundle under --out, the temporary removed by the next export`, async () => {
      const out = path.join(tmp, `out-${stage}`);
      const r = await exportUntil(out, stage);
      assert.ok(r.killed, `the child was killed (it ended ${r.code}: ${r.last})`);
      assert.ok(!fs.existsSync(out), `${out} exists after a kill at ${stage}`);
      const left = temps(out);
      assert.equal(left.length, 1, 'what was written lies in one hidden temporary');
      assert.ok(files(path.join(path.dirname(out), left[0])).includes('model.safetensors'));
      const again = await exportUntil(out, null);
      assert.equal(again.code, 0, again.last);
      assert.equal(JSON.parse(again.last).status, 'completed');
      assert.equal(files(out).length, BUNDLE_FILES);
      assert.deepEqual(temps(out), [], 'the dead export\'s temporary is gone');
    });
  }

  it('killed while publishing: --out is absent or the whole verified bundle, never a part', async () => {
    const out = path.join(tmp, 'out-publish');
    await exportUntil(out, 'publish');
    if (fs.existsSync(out)) {
      assert.equal(files(out).length, BUNDLE_FILES);
      assert.match(fs.readFileSync(path.join(out, 'README.md'), 'utf8'), /## Verification/);
    }
  });
});
