#!/usr/bin/env node
// The inspect views' frame-time bench: builds renderer/inspect/bench (Vite), serves it on 127.0.0.1,
// drives it in Debian's Chromium (playwright-core): the model view of 12 × 12 heads at 128 tokens, and
// one head at 512 tokens in the head view (hover, selection), the slider's replay and the lines view,
// each acted on once per frame. Prints a table and one JSON line; screenshots go to bench-results/.
// Usage: npm run bench:inspect [-- --seconds 4]
import fs from 'node:fs';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';

const argv = process.argv.slice(2);
const seconds = Number(argv[argv.indexOf('--seconds') + 1]) || 4;
const outDir = path.resolve('dist/bench-inspect');
const shots = path.resolve('bench-results');
fs.mkdirSync(shots, { recursive: true });
const vite = { root: path.resolve('renderer/inspect/bench'), base: './', configFile: false, logLevel: 'warn', plugins: [react()], build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 8000 } };
await build(vite);
const server = await preview({ ...vite, preview: { host: '127.0.0.1', port: 0 } });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const results = {};
try {
  const page = await browser.newPage({ viewport: { width: 1240, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(server.resolvedUrls.local[0]);
  await page.waitForFunction(() => window.bench?.ready, null, { timeout: 60_000 });
  for (const [name, what] of [['idle', 'idle (nothing drawn): this machine\'s baseline'], ['model', 'model view, 12×12 heads at 128 tokens: hover + re-sort'], ['headHover', 'head view, 512 tokens: hover read-outs'],
    ['headSelect', 'head view, 512 tokens: select a query per frame'], ['replay', 'slider replay, 512 tokens: a new checkpoint per frame'], ['lines', 'lines view, 512 tokens: follow a query']]) {
    const r = await page.evaluate(([n, ms]) => window.bench[n](ms), [name, seconds * 1000]);
    await page.screenshot({ path: path.join(shots, `inspect-bench-${name}.png`) });
    results[name] = r;
    console.log(`${what.padEnd(58)} frames ${String(r.frames).padStart(4)}  p50 ${r.p50.toFixed(1)} ms  p95 ${r.p95.toFixed(1)} ms  max ${r.max.toFixed(1)} ms  >33 ms ${(100 * r.over33).toFixed(1)}%  work p50 ${r.workP50.toFixed(1)} p95 ${r.workP95.toFixed(1)} max ${r.workMax.toFixed(1)} ms`);
  }
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
  await new Promise((r) => server.httpServer.close(r));
}
console.log(JSON.stringify({ chromium: browser.version(), seconds, ...results }));
