/**
 * The folder table of DESIGN.md is enforced by dependency-cruiser (.dependency-cruiser.cjs, run by
 * `npm test`). This proves the check bites: a scratch tree with one forbidden import per rule must fail it,
 * and the same tree without them must pass.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

function cruise(files: Record<string, string>): { status: number | null; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-rules-'));
  try {
    fs.copyFileSync(path.join(root, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
    fs.copyFileSync(path.join(root, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    const bin = path.join(root, 'node_modules/.bin/depcruise');
    const folders = ['common', 'engine', 'electron', 'renderer', 'e2e'].filter((f) => fs.existsSync(path.join(dir, f)));
    const r = spawnSync(bin, [...folders, '--config', '.dependency-cruiser.cjs'], { cwd: dir, encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const clean = {
  'common/schema.ts': "import { z } from 'zod';\nexport const S = z.string();\n",
  'common/schema.test.ts': "import test from 'node:test';\nimport { S } from './schema';\nexport const t = [test, S];\n",
  'common/node/files.ts': "import fs from 'node:fs';\nimport { S } from '../schema';\nexport const n = [fs, S];\n",
  'engine/job.ts': "import fs from 'node:fs';\nimport { S } from '../common/schema';\nimport { n } from '../common/node/files';\nexport const j = [fs, S, n];\n",
  'electron/host.ts': "import { spawn } from 'node:child_process';\nimport { S } from '../common/schema';\nimport { n } from '../common/node/files';\nexport const h = [spawn, S, n];\n",
  'renderer/view.ts': "import { S } from '../common/schema';\nexport const v = S;\n",
  'e2e/flow.ts': "import { S } from '../common/schema';\nexport const f = S;\n",
};

describe('folder import rules', () => {
  it('pass on a tree that follows the table', () => {
    const r = cruise(clean);
    assert.equal(r.status, 0, r.out);
  });

  const violations: [string, string, string][] = [
    ['common-no-node-builtins', 'common/bad.ts', "import fs from 'node:fs';\nexport const b = fs;\n"],
    ['common-is-pure', 'common/bad.ts', "import { j } from '../engine/job';\nexport const b = j;\n"],
    ['common-is-pure', 'common/bad.ts', "import { n } from './node/files';\nexport const b = n;\n"],
    ['common-node-is-plain-node', 'common/node/bad.ts', "import { j } from '../../engine/job';\nexport const b = j;\n"],
    ['common-node-is-plain-node', 'common/node/bad.ts', "import { h } from '../../electron/host';\nexport const b = h;\n"],
    ['renderer-is-a-browser', 'renderer/bad.ts', "import { n } from '../common/node/files';\nexport const b = n;\n"],
    ['common-tests-stay-in-common', 'common/schema.test.ts', "import { j } from '../engine/job';\nexport const b = j;\n"],
    ['engine-knows-no-ui', 'engine/bad.ts', "import { h } from '../electron/host';\nexport const b = h;\n"],
    ['electron-starts-engine-by-path', 'electron/bad.ts', "import { j } from '../engine/job';\nexport const b = j;\n"],
    ['renderer-is-a-browser', 'renderer/bad.ts', "import { j } from '../engine/job';\nexport const b = j;\n"],
    ['renderer-no-node-builtins', 'renderer/bad.ts', "import path from 'node:path';\nexport const b = path;\n"],
    ['e2e-drives-the-ui-only', 'e2e/bad.ts', "import { v } from '../renderer/view';\nexport const b = v;\n"],
  ];
  for (const [rule, file, text] of violations) {
    it(`fail on ${rule} (${file} importing ${/from '([^']+)'/.exec(text)?.[1]})`, () => {
      const r = cruise({ ...clean, [file]: text });
      assert.notEqual(r.status, 0, `the check let ${file} through:\n${r.out}`);
      assert.match(r.out, new RegExp(`${rule}: ${file}`));
    });
  }
});
