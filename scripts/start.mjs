#!/usr/bin/env node
// `npm start`: the desktop app where Electron's binary is installed, browser mode otherwise.
// Builds the renderer when dist/renderer is missing. Arguments after `--` go to browser mode
// (`npm start -- --port 8888 --workspace ~/experiments --no-open`); `--browser` forces browser mode.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const forceBrowser = args.includes('--browser');
const rest = args.filter((a) => a !== '--browser');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The Electron binary, if it is really there and runs. Not require('electron'): where the binary is
 * missing that tries to download it, which cannot work on a machine without the network.
 */
function electronBinary() {
  const pkg = path.join(root, 'node_modules', 'electron');
  const pathTxt = path.join(pkg, 'path.txt');
  if (!fs.existsSync(pathTxt)) return null;
  const bin = process.env.ELECTRON_OVERRIDE_DIST_PATH
    ? path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, fs.readFileSync(pathTxt, 'utf8').trim())
    : path.join(pkg, 'dist', fs.readFileSync(pathTxt, 'utf8').trim());
  if (!fs.existsSync(bin)) return null;
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20000, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  return probe.status === 0 ? bin : null;
}

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\`${cmd} ${cmdArgs.join(' ')}\` failed`);
    process.exit(r.status ?? 1);
  }
}

function ensureRenderer() {
  if (fs.existsSync(path.join(root, 'dist', 'renderer', 'index.html'))) return;
  const scripts = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts ?? {};
  if (!scripts['build:renderer']) {
    console.error('dist/renderer is missing and there is no build:renderer script; the server will say so on every page.');
    return;
  }
  console.log('Building the renderer (first start)…');
  run(npm, ['run', 'build:renderer']);
}

ensureRenderer();
const electron = forceBrowser ? null : electronBinary();
if (electron) {
  run(process.execPath, [path.join(root, 'scripts', 'build-preload.mjs')]);
  const child = spawn(electron, [path.join(root, 'scripts', 'electron-main.mjs')], { cwd: root, stdio: 'inherit', env: { ...process.env, ELECTRON_RUN_AS_NODE: undefined } });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  if (!forceBrowser) console.log('Electron\'s binary is not installed here: starting browser mode.');
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../electron/server/main.ts');
  await main(rest);
}
