#!/usr/bin/env node
// The folder import rules (.dependency-cruiser.cjs) over the source folders that exist: depcruise refuses a
// folder that is missing, and a fresh layout need not have all of them yet.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const folders = ['common', 'engine', 'electron', 'renderer', 'e2e', 'tools', 'scripts'].filter((f) => fs.existsSync(f));
const bin = path.join('node_modules', '.bin', 'depcruise');
const r = spawnSync(bin, [...folders, '--config', '.dependency-cruiser.cjs'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
