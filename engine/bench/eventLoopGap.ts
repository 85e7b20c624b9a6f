/**
 * How long the engine keeps a command waiting while it trains: the real engine process runs an experiment's
 * pretraining while this asks it for `status` every 50 ms, and reports the longest wait and the phase it came
 * in (the last run event before it). A cancel waits as long as a status does: this is the bound on how late a
 * cancel is heard. `npm run bench:gap [-- EXPERIMENT [STEPS]]` (default: the Brown mini BERT, 20 steps).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExperiment, pretrainCellsOf } from '../../common/experiment';
import { startEngine } from '../server/testClient';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const file = path.resolve(process.argv[2] ?? path.join(root, 'experiments/brown-bert-mini.experiment.json'));
const steps = Number(process.argv[3] ?? 20);
const parsed = parseExperiment(JSON.parse(fs.readFileSync(file, 'utf8')));
if (!parsed.ok) throw new Error(`${file}: ${parsed.error}`);
const { dataset, model, pretrain } = pretrainCellsOf(parsed.value, undefined, file);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-gap-'));
const engine = await startEngine({ env: { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache') } });
try {
  await engine.client.hello();
  let phase = 'start';
  const job = engine.client.startJob('gap', {
    kind: 'pretrain.start', name: parsed.value.name, dataset: dataset.dataset, tokenizer: dataset.tokenizer, model: model.model,
    pretrain: pretrain.pretrain, runsDir: path.join(tmp, 'runs'), baseDir: path.dirname(file), steps,
  } as never, (e) => {
    if (e.type !== 'onRunEvents') return;
    const last = e.events.at(-1)!;
    phase = last.type === 'status' ? `status ${last.status}` : last.type === 'progress' ? `preparing: ${last.phase}` : last.type === 'step' ? `training, after step ${last.step}` : last.type;
  });
  let done = false;
  void job.ended.then(() => { done = true; });
  const waits: number[] = [];
  let worst = { ms: 0, during: '' };
  /** the longest wait in each phase: which part of a run holds commands, and which part is innocent */
  const byPhase = new Map<string, number>();
  while (!done) {
    const t0 = performance.now();
    await engine.client.request({ type: 'status' });
    const ms = performance.now() - t0;
    waits.push(ms);
    if (ms > worst.ms) worst = { ms, during: phase };
    const kind = phase.replace(/after step \d+/, 'steps');
    byPhase.set(kind, Math.max(byPhase.get(kind) ?? 0, Math.round(ms)));
    await new Promise((r) => setTimeout(r, 50));
  }
  waits.sort((a, b) => a - b);
  const p = (q: number) => Math.round(waits[Math.min(waits.length - 1, Math.floor(q * waits.length))]);
  console.log(JSON.stringify({ experiment: path.relative(root, file), steps, probes: waits.length, p50Ms: p(0.5), p99Ms: p(0.99), worstMs: Math.round(worst.ms), worstDuring: worst.during, worstByPhase: Object.fromEntries(byPhase) }));
} finally {
  await engine.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
