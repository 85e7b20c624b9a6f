/**
 * Runs PyTorch's reference training run (/work/shared/reference/torch_baseline.py) beside ours, so
 * that the tokens/s ratio is measured on the same machine at the same time.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Debian's torch lives under Debian's own Python; a `python3` first on PATH may not see it. */
export const TORCH_PYTHON = '/usr/bin/python3';

export interface PytorchRunOptions {
  /** training iterations (default 200) */
  iters?: number;
  /** torch threads (default 1: PyTorch's fastest setting on 2 cores, see PERF-NOTES) */
  threads?: number;
  /** repository root; the script and data are found at ../shared/ from it (default: cwd) */
  repoRoot?: string;
  /** override the script / data paths */
  script?: string;
  data?: string;
  python?: string;
  /** kill the run after this many ms (default 15 minutes) */
  timeoutMs?: number;
}

export type PytorchResult =
  | { ok: true; tokens_per_s: number; engine: string; threads: number; iters: number; train_s: number; raw: Record<string, unknown> }
  | { ok: false; tokens_per_s: null; reason: string };

/** Whether `python -c 'import torch'` works; the reason when not. */
export function torchAvailable(python = TORCH_PYTHON): { ok: boolean; reason?: string; version?: string } {
  if (!fs.existsSync(python)) return { ok: false, reason: `${python} does not exist` };
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return { ok: false, reason: `${python} could not run: ${r.error.message}` };
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop() ?? '';
    return { ok: false, reason: `PyTorch is not importable by ${python} (${last}); install it with: apt-get install -y python3-torch libopenblas0-pthread` };
  }
  return { ok: true, version: r.stdout.trim() };
}

/** The last line of `text` that parses as a JSON object with a numeric tokens_per_s. */
export function parseBaselineOutput(text: string): Record<string, unknown> | null {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith('{')) continue;
    try {
      const o = JSON.parse(lines[i]) as Record<string, unknown>;
      if (typeof o.tokens_per_s === 'number') return o;
    } catch { /* not JSON */ }
  }
  return null;
}

/** Runs the baseline; resolves with its tokens/s, or null and the reason it could not run. */
export async function runPytorchBaseline(opts: PytorchRunOptions = {}): Promise<PytorchResult> {
  const root = opts.repoRoot ?? process.cwd();
  const python = opts.python ?? TORCH_PYTHON;
  const script = opts.script ?? path.resolve(root, '../shared/reference/torch_baseline.py');
  const data = opts.data ?? path.resolve(root, '../shared/data/tinyshakespeare.txt');
  const fail = (reason: string): PytorchResult => ({ ok: false, tokens_per_s: null, reason });
  if (!fs.existsSync(script)) return fail(`the baseline script ${script} is missing`);
  if (!fs.existsSync(data)) return fail(`the data file ${data} is missing`);
  const avail = torchAvailable(python);
  if (!avail.ok) return fail(avail.reason ?? 'PyTorch is not available');
  const args = [script, '--data', data, '--iters', String(opts.iters ?? 200), '--threads', String(opts.threads ?? 1)];
  return new Promise((resolve) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15 * 60_000);
    child.on('error', (e) => { clearTimeout(timer); resolve(fail(`could not start ${python}: ${e.message}`)); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const res = parseBaselineOutput(out);
      if (code !== 0 || !res) {
        const tail = (err.trim().split('\n').pop() ?? '').slice(0, 300);
        resolve(fail(`torch_baseline.py ${signal ? `was killed (${signal})` : `exited with ${code}`}${res ? '' : ' without a result line'}${tail ? `: ${tail}` : ''}`));
        return;
      }
      resolve({
        ok: true,
        tokens_per_s: res.tokens_per_s as number,
        engine: String(res.engine ?? 'pytorch'),
        threads: Number(res.threads ?? opts.threads ?? 1),
        iters: Number(res.iters ?? opts.iters ?? 200),
        train_s: Number(res.train_s ?? NaN),
        raw: res,
      });
    });
  });
}
