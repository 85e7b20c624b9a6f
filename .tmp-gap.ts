// Measures the engine's worst answer gap to `status` while a job runs: the longest a command waits.
import fs from 'node:fs';
import path from 'node:path';
import { startEngine } from '/work/main/engine/server/testClient';
const exp = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const cells = Object.fromEntries(exp.cells.map((c: any) => [c.kind, c]));
const engine = await startEngine({ env: { ...process.env, XDG_CACHE_HOME: '/tmp/gap/cache' } });
await engine.client.hello();
const job = engine.client.startJob('gap', { kind: 'pretrain.start', name: 'gap', dataset: cells.dataset.dataset, tokenizer: cells.dataset.tokenizer, model: cells.model.model, pretrain: cells.pretrain.pretrain, runsDir: '/tmp/gap/runs', baseDir: path.dirname(process.argv[2]), steps: Number(process.argv[3] ?? 30) } as any, (e: any) => { if (e.type === 'onRunEvents') for (const ev of e.events) if (ev.type === 'status' || ev.type === 'progress') phase = `${ev.type}:${ev.status ?? ev.phase}`; });
let phase = 'start';
let worst = 0; let worstPhase = '';
let done = false;
job.ended.then(() => { done = true; });
while (!done) {
  const t0 = performance.now();
  await engine.client.request({ type: 'status' } as any);
  const dt = performance.now() - t0;
  if (dt > worst) { worst = dt; worstPhase = phase; }
  await new Promise((r) => setTimeout(r, 50));
}
console.log(JSON.stringify({ worstMs: Math.round(worst), during: worstPhase }));
await engine.stop();
