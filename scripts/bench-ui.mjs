#!/usr/bin/env node
// The dashboards' frame-time bench: builds renderer/dashboards/bench (Vite), serves it on 127.0.0.1,
// opens it in Debian's Chromium (playwright-core) and records requestAnimationFrame deltas while
// (a) the 100,000-point loss chart is panned and zoomed and (b) a live run streams 1000 points/s in
// batches of 100. Prints a table, writes a screenshot to bench-results/, and ends with one JSON line.
// Usage: npm run bench:ui [-- --seconds 5]
import path from 'node:path';
import fs from 'node:fs';
import { build, preview } from 'vite';
import react from '@vitejs/plugin-react';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1]) || 5;
const root = path.resolve('renderer/dashboards/bench');
const outDir = path.resolve('dist/bench-ui');
const shots = path.resolve('bench-results');
fs.mkdirSync(shots, { recursive: true });

const config = { root, base: './', configFile: false, logLevel: 'warn', plugins: [react()], build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 8000 } };
await build(config);
const server = await preview({ ...config, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
const url = server.resolvedUrls.local[0];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const fmt = (s) => `frames ${s.frames}  p50 ${s.p50.toFixed(1)} ms  p95 ${s.p95.toFixed(1)} ms  max ${s.max.toFixed(1)} ms  dropped ${(100 * s.droppedShare).toFixed(1)}%`;
let result;
try {
  const page = await browser.newPage({ viewport: { width: 1240, height: 1400 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => window.bench?.ready, null, { timeout: 60_000 });
  const loadMs = Date.now() - t0;
  const points = await page.evaluate(() => window.bench.points());
  // idle baseline: what this machine's headless Chromium gives with nothing to do
  const idle = await page.evaluate((ms) => new Promise((r) => { const d = []; let p = 0; const f = (t) => { if (p) d.push(t - p); p = t; if (d.length < ms / 16.7) requestAnimationFrame(f); else { d.sort((a, b) => a - b); r({ p50: d[d.length >> 1], p95: d[Math.floor(d.length * 0.95)], max: d[d.length - 1] }); } }; requestAnimationFrame(f); }), 2000);
  const panZoom = await page.evaluate((ms) => window.bench.panZoom(ms), seconds * 1000);
  await page.screenshot({ path: path.join(shots, 'ui-bench-panzoom-end.png') });
  const stream = await page.evaluate((ms) => window.bench.stream(ms), seconds * 1000);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(shots, 'ui-bench.png'), fullPage: true });
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  console.log(`chromium ${browser.version()}, ${points} points in the past run, page ready in ${loadMs} ms`);
  console.log(`idle           p50 ${idle.p50.toFixed(1)} ms  p95 ${idle.p95.toFixed(1)} ms  max ${idle.max.toFixed(1)} ms`);
  console.log(`pan/zoom ${seconds}s    ${fmt(panZoom)}`);
  console.log(`stream ${seconds}s      ${fmt(stream)}  (${stream.points} points streamed)`);
  console.log(`screenshot: ${path.relative(process.cwd(), path.join(shots, 'ui-bench.png'))}`);
  result = { chromium: browser.version(), points, loadMs, idle, panZoom, stream };
} finally {
  await browser.close();
  await new Promise((r) => server.httpServer.close(r));
}
console.log(JSON.stringify(result));
