/**
 * `npm run bench:serve`: the inference server (`workbench serve`, a child process) under 1, 8 and 32
 * concurrent clients that each send completions back to back, with batching on and off, printing one JSON
 * line per setting (requests/s, tokens/s, p50/p95 latency). Then the checks of the issue: at 32 clients
 * batching gives at least 4× the unbatched throughput; a burst beyond the queue gets 429s with Retry-After
 * and the server keeps serving; requests with a foreign Host or Origin, or a missing or wrong token, are
 * refused. The last line is a summary; the exit code is 1 when a check fails.
 *
 *   npm run bench:serve -- [RUN_DIR] [--seconds S] [--max-tokens N] [--backend NAME]
 *
 * Without RUN_DIR a small character GPT (context 64) is trained for a few steps on Shakespeare first.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { CompletionResponse } from '../../common/serveApi';
import { tinyRun } from '../inspect/tinyRuns.testing';
import { request } from '../serve/serveClient.testing';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '6' }, 'max-tokens': { type: 'string', default: '32' }, backend: { type: 'string', default: 'auto' } },
});
const SECONDS = Number(values.seconds);
const MAX_TOKENS = Number(values['max-tokens']);
const BIN = path.resolve(import.meta.dirname, '../../bin/workbench.js');
const PROMPTS = ['ROMEO:', 'First Citizen:\n', 'What light', 'O, ', 'And', 'I am', 'Good', 'MENENIUS:'];

interface Server { port: number; token: string; child: ChildProcessWithoutNullStreams }

async function startServer(runDir: string, flags: string[]): Promise<Server> {
  const child = spawn(process.execPath, [BIN, 'serve', runDir, '--json', '--backend', values.backend!, ...flags]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`workbench serve exited ${code}: ${stderr}`)));
  });
  const info = JSON.parse(line) as { url: string; token: string };
  return { port: Number(new URL(info.url).port), token: info.token, child };
}

async function stopServer(s: Server): Promise<void> {
  const exited = new Promise((resolve) => s.child.once('exit', resolve));
  s.child.kill('SIGINT');
  await exited;
}

let seed = 0;
function complete(s: Server, extra: Record<string, string> = {}) {
  const prompt = PROMPTS[seed % PROMPTS.length];
  return request(s.port, { path: '/v1/completions', headers: { Authorization: `Bearer ${s.token}`, ...extra }, body: { prompt, max_tokens: MAX_TOKENS, temperature: 0.8, seed: seed++ } });
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** `clients` closed loops of completions for SECONDS: each sends its next request when its last one is answered. */
async function drive(s: Server, clients: number, batching: boolean) {
  const latencies: number[] = [];
  let tokens = 0;
  let failures = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const start = performance.now();
      const r = await complete(s);
      if (r.status !== 200) { failures++; continue; }
      latencies.push(performance.now() - start);
      tokens += CompletionResponse.parse(JSON.parse(r.body)).usage.completion_tokens;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    setting: 'load', clients, batching, requests: latencies.length, failures, seconds: +seconds.toFixed(2),
    requests_per_s: +(latencies.length / seconds).toFixed(2), tokens_per_s: +(tokens / seconds).toFixed(1),
    p50_ms: Math.round(quantile(latencies, 0.5)), p95_ms: Math.round(quantile(latencies, 0.95)),
  };
}

/** A burst of `n` at once against a queue of `queue`: some must be refused with 429 + Retry-After, the rest served, and then the server still serves. */
async function overload(s: Server, n: number, queue: number) {
  const replies = await Promise.all(Array.from({ length: n }, () => complete(s)));
  const refused = replies.filter((r) => r.status === 429);
  const after = await complete(s);
  return {
    setting: 'overload', burst: n, max_queue: queue, served: replies.filter((r) => r.status === 200).length, refused_429: refused.length,
    retry_after_on_every_429: refused.every((r) => r.headers['retry-after'] !== undefined), other: replies.filter((r) => r.status !== 200 && r.status !== 429).length,
    served_after: after.status === 200,
  };
}

async function hostile(s: Server) {
  const body = { prompt: 'a', max_tokens: 1 };
  const tries: [string, Record<string, string>][] = [
    ['no token', {}],
    ['wrong token', { Authorization: `Bearer ${'f'.repeat(64)}` }],
    ['foreign Host (DNS rebinding)', { Authorization: `Bearer ${s.token}`, Host: `attacker.example:${s.port}` }],
    ['foreign Origin', { Authorization: `Bearer ${s.token}`, Origin: 'http://attacker.example' }],
  ];
  const statuses: Record<string, number> = {};
  for (const [what, headers] of tries) statuses[what] = (await request(s.port, { path: '/v1/completions', headers, body })).status;
  return { setting: 'hostile', statuses, all_refused: Object.values(statuses).every((st) => st === 401 || st === 403) };
}

const tmp = positionals[0] ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'bench-serve-'));
try {
  const runDir = positionals[0] ?? await tinyRun(tmp!, { arch: 'gpt', contextLength: 64, dModel: 64, nHeads: 4, nLayers: 2 }, { pretrain: { steps: 30, batchSize: 8, evalInterval: 30 } });
  const results: Record<string, number> = {};
  for (const batching of [true, false]) {
    const s = await startServer(runDir, batching ? ['--max-batch', '32', '--batch-wait-ms', '5'] : ['--max-batch', '1', '--batch-wait-ms', '0']);
    try {
      for (let i = 0; i < 3; i++) await complete(s); // warm-up: kernels compiled before anything is timed
      for (const clients of [1, 8, 32]) {
        const r = await drive(s, clients, batching);
        console.log(JSON.stringify({ ...r, max_tokens: MAX_TOKENS, run: runDir }));
        results[`${clients}:${batching}`] = r.tokens_per_s;
      }
    } finally {
      await stopServer(s);
    }
  }
  const s = await startServer(runDir, ['--max-batch', '8', '--max-queue', '8']);
  let checks;
  try {
    const o = await overload(s, 64, 8);
    console.log(JSON.stringify(o));
    const h = await hostile(s);
    console.log(JSON.stringify(h));
    checks = { overload: o.refused_429 > 0 && o.served > 0 && o.other === 0 && o.retry_after_on_every_429 && o.served_after, hostile_refused: h.all_refused };
  } finally {
    await stopServer(s);
  }
  const speedup = results['32:true'] / results['32:false'];
  const pass = speedup >= 4 && checks.overload && checks.hostile_refused;
  console.log(JSON.stringify({ setting: 'summary', batching_speedup_at_32_clients: +speedup.toFixed(2), ...checks, pass }));
  if (!pass) process.exitCode = 1;
} finally {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}
