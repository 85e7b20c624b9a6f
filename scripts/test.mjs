#!/usr/bin/env node
// Runs the test files under the given folders (default: all source folders) with Node's built-in runner
// and tsx. Node 20's `--test` cannot glob, so this finds the files. Usage: node scripts/test.mjs [--only SUFFIX] [DIR...]
// Suites with a command of their own run only when --only names them: `*.faults.test.ts` (`npm run test:faults`).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
let suffix = '.test.ts';
const OWN_COMMAND = ['.faults.test.ts'];
const onlyAt = args.indexOf('--only');
if (onlyAt >= 0) { suffix = args[onlyAt + 1]; args.splice(onlyAt, 2); }
const dirs = args.length ? args : ['common', 'engine', 'electron', 'renderer', 'tools'];

const files = dirs
  .filter((d) => fs.existsSync(d))
  .flatMap((d) => fs.readdirSync(d, { recursive: true }).map((f) => path.join(d, String(f))))
  .filter((f) => f.endsWith(suffix) && !f.includes('node_modules'))
  .filter((f) => !OWN_COMMAND.some((own) => f.endsWith(own) && !suffix.endsWith(own)))
  .sort();
if (files.length === 0) {
  console.error(`no test files ending in ${suffix} under ${dirs.join(', ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-timeout=600000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
