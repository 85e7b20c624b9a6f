/**
 * Fault probe (b), `npm run test:faults`: a catalogue of bad sources fed as a user would — to the command line
 * (`workbench train EXP --data X --steps 2 --json`, one process per case) and to the engine process (a
 * `dataset.preview` job over the protocol, one engine for the whole catalogue). Each must be refused with a
 * message that names the file and says why, within CASE_SECONDS (the command line's process start included)
 * and PEAK_MIB of resident memory at the peak, and the engine must go on serving. Prints the figures as a table.
 *
 * When the tests run as root (CI), both run as root without the capabilities that let it read through file
 * permissions (setpriv, util-linux), so that an unreadable file is unreadable. Not as another user: a checkout
 * in a 0700 folder (mktemp -d) is out of that user's reach.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { DatasetSource } from '../../common/datasetConfig';
import { processMemory, resetPeakMemory, toMiB } from '../../common/node/processMemory';
import { sourceForData } from '../cli/dataFlag';
import { startEngine, within } from '../server/testClient';

/** Wall-clock bound per case: the command line's start (tsx, TF.js) takes 1–3 s of it on 2 busy cores. */
const CASE_SECONDS = 15;
/** Peak resident memory per case. A Node process with TF.js loaded sits at ~170–190 MiB; a source read whole would pass 512 MiB. */
const PEAK_MIB = 400;

const root = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(root, 'bin/workbench.js');
/** The command prefix that drops root's file-permission override (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); none when not root. */
const DROP_FILE_CAPS = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-dac_override,-dac_read_search'] : [];
const asRoot = DROP_FILE_CAPS.length > 0;

/** Loaded before the command line: writes its peak resident memory (getrusage's maxrss) where WB_PEAK_FILE says, on the way out. */
const PEAK_PRELOAD = `data:text/javascript,${encodeURIComponent(
  "import fs from 'node:fs'; process.on('exit', () => { if (process.env.WB_PEAK_FILE) fs.writeFileSync(process.env.WB_PEAK_FILE, String(process.resourceUsage().maxRSS * 1024)); });",
)}`;

interface Case {
  name: string;
  /** creates the source in `dir` and returns its path */
  make(dir: string): string;
  /** why it is refused, as the message must say it */
  reason: RegExp;
}

const CASES: Case[] = [
  { name: '/dev/zero', make: () => '/dev/zero', reason: /is a character device, not a regular file/ },
  { name: '/dev/urandom', make: () => '/dev/urandom', reason: /is a character device, not a regular file/ },
  {
    name: 'FIFO', reason: /is a named pipe \(FIFO\), not a regular file/,
    make: (dir) => {
      const p = path.join(dir, 'fifo.txt');
      const r = spawnSync('mkfifo', [p]);
      assert.equal(r.status, 0, `mkfifo: ${r.stderr}`);
      return p;
    },
  },
  { name: 'socket', make: (dir) => path.join(dir, 'socket.txt'), reason: /is a socket, not a regular file/ }, // listened on in before()
  { name: '0-byte file', make: (dir) => write(dir, 'empty.txt', ''), reason: /holds no text/ },
  {
    name: 'binary file', reason: /looks binary/,
    make: (dir) => write(dir, 'weights.txt', Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 2654435761) >>> 24))),
  },
  {
    name: 'Latin-1 file', reason: /is not UTF-8.*convert it to UTF-8/,
    make: (dir) => write(dir, 'latin1.txt', Buffer.from('Le café de la gare était fermé; à demain, dit-il.\n'.repeat(2000), 'latin1')),
  },
  {
    // a run streams a file this large and refuses it at its first chunk (zeros); the preview reads whole, and refuses it by its size
    name: '2 GiB sparse file', reason: /looks binary \(a NUL byte at offset 0\)|is 2048 MiB; a text file is read whole, up to 512 MiB/,
    make: (dir) => {
      const p = write(dir, 'sparse.txt', '');
      fs.truncateSync(p, 2 * 2 ** 30);
      return p;
    },
  },
  {
    name: asRoot ? 'unreadable file (root without its override)' : 'unreadable file', reason: /permission denied; make the file readable/,
    make: (dir) => {
      const p = write(dir, 'secret.txt', 'To be, or not to be, that is the question.\n'.repeat(500));
      fs.chmodSync(p, 0o000);
      return p;
    },
  },
  {
    name: 'folder of symlink loops', reason: /symbolic links? .*loop/,
    make: (dir) => {
      const d = path.join(dir, 'loops');
      fs.mkdirSync(path.join(d, 'deeper'), { recursive: true });
      fs.symlinkSync('b.txt', path.join(d, 'a.txt'));
      fs.symlinkSync('a.txt', path.join(d, 'b.txt'));
      fs.symlinkSync('self.txt', path.join(d, 'self.txt'));
      fs.symlinkSync('.', path.join(d, 'here'));
      fs.symlinkSync('..', path.join(d, 'deeper', 'up'));
      return d;
    },
  },
  {
    name: 'JSON Lines, bad line 2', reason: /:2: not valid JSON/,
    make: (dir) => write(dir, 'corpus.jsonl', '{"text": "a good line"}\n{"text": broken\n{"text": "another"}\n'),
  },
];

function write(dir: string, name: string, data: string | Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data, { mode: 0o644 });
  return p;
}

interface Figures { message: string; seconds: number; peakMiB: number }

let tmp: string;
let experiment: string;
const paths = new Map<string, string>();
let socketServer: net.Server;
const cliFigures = new Map<string, Figures>();
const engineFigures = new Map<string, Figures>();

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-bad-sources-'));
  for (const c of CASES) paths.set(c.name, c.make(tmp));
  socketServer = net.createServer();
  await new Promise<void>((resolve) => socketServer.listen(paths.get('socket')!, resolve));
  experiment = write(tmp, 'tiny.experiment.json', JSON.stringify({
    format: 'transformer-workbench.experiment', version: 2, name: 'tiny',
    cells: [
      { id: 'd', kind: 'dataset', dataset: { source: currentSource, split: 'tail', cleaning: { minChars: 0 } }, tokenizer: { kind: 'char' } },
      { id: 'm', kind: 'model', model: { arch: 'gpt', contextLength: 16, dModel: 16, nHeads: 2, nLayers: 1 } },
      { id: 'p', kind: 'pretrain', pretrain: { steps: 200, batchSize: 2, evalBatches: 1, backend: 'cpu', schedule: { warmupSteps: 5 } } },
    ],
  }));
});

after(async () => {
  await new Promise((resolve) => socketServer?.close(resolve));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const currentSource: DatasetSource = { kind: 'file', path: 'corpus.txt', unit: 'paragraph' };

/** One command-line run: its exit code, stderr, seconds from spawn to exit and peak memory. */
async function runCli(dataPath: string): Promise<{ code: number | null; stderr: string; seconds: number; peakMiB: number }> {
  const peakFile = path.join(tmp, `peak-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const [command, ...prefix] = [...DROP_FILE_CAPS, process.execPath];
  const child = spawn(command, [...prefix, '--import', PEAK_PRELOAD, BIN, 'train', experiment, '--data', dataPath, '--steps', '2', '--json', '--out', path.join(tmp, 'runs')], {
    cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache'), WB_PEAK_FILE: peakFile },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  // a case that hangs is ended, and fails on its time, rather than hanging the suite
  const killer = setTimeout(() => child.kill('SIGKILL'), (CASE_SECONDS + 5) * 1000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(killer);
  const seconds = (performance.now() - t0) / 1000;
  const peak = fs.existsSync(peakFile) ? Number(fs.readFileSync(peakFile, 'utf8')) : NaN;
  return { code, stderr, seconds, peakMiB: toMiB(peak) };
}

describe('bad sources', () => {
  it('the command line refuses each with a message naming the file: exit 1, no stack trace, bounded time and memory', async (t) => {
    const problems: string[] = [];
    for (const c of CASES) {
      const file = paths.get(c.name)!;
      const r = await runCli(file);
      const message = r.stderr.trim().split('\n')[0] ?? '';
      cliFigures.set(c.name, { message, seconds: r.seconds, peakMiB: r.peakMiB });
      if (r.code !== 1) problems.push(`${c.name}: exit code ${r.code}, not 1`);
      problems.push(...judge(c, file, message, r.seconds, r.peakMiB));
      if (/\n\s+at /.test(r.stderr)) problems.push(`${c.name}: a stack trace: ${r.stderr}`);
    }
    printTable(t, 'command line', cliFigures, 'its process start included');
    assert.deepEqual(problems, []);
    t.diagnostic(`command line: ${CASES.length} bad sources refused${asRoot ? ' (as root without its file-permission override)' : ''}`);
  });

  it('the engine process refuses each as a failed dataset.preview job naming the file, and goes on serving', async (t) => {
    const problems: string[] = [];
    const engine = await startEngine({ commandPrefix: DROP_FILE_CAPS, env: { XDG_CACHE_HOME: path.join(tmp, 'cache') } });
    try {
      const pid = engine.child.pid!;
      for (const [i, c] of CASES.entries()) {
        const file = paths.get(c.name)!;
        resetPeakMemory(pid);
        const t0 = performance.now();
        const job = engine.client.startJob(`bad-${i}`, {
          kind: 'dataset.preview', baseDir: tmp, samples: 2, tokenizer: { kind: 'char' },
          dataset: { source: sourceForData(file, currentSource), split: 'tail', cleaning: { minChars: 0 } },
        });
        await job.accepted;
        const end = await within(job.ended, (CASE_SECONDS + 5) * 1000, `${c.name}: the preview to end`);
        const seconds = (performance.now() - t0) / 1000;
        const peakMiB = toMiB(processMemory(pid).peakBytes);
        const message = end.type === 'onJobFailed' ? end.error.message : `(${end.type})`;
        engineFigures.set(c.name, { message, seconds, peakMiB });
        if (end.type !== 'onJobFailed' || end.error.code !== 'INVALID_DATASET') problems.push(`${c.name}: ${JSON.stringify(end).slice(0, 300)}`);
        problems.push(...judge(c, file, message, seconds, peakMiB));
        // serving still: a status answer, no job left behind
        const status = await within(engine.client.request({ type: 'status' }), 5_000, `${c.name}: status after the refusal`);
        if (status.jobs.length) problems.push(`${c.name}: jobs left running: ${JSON.stringify(status.jobs)}`);
      }
    } finally {
      await engine.stop();
    }
    printTable(t, 'engine (dataset.preview)', engineFigures, 'from job.start to the job\'s end');
    assert.deepEqual(problems, []);
    t.diagnostic(`engine: ${CASES.length} bad sources refused${asRoot ? ' (as root without its file-permission override)' : ''}, the engine serving after each`);
  });
});

/** What is wrong with one refusal: it must name the file, say why, and keep to the bounds. */
function judge(c: Case, file: string, message: string, seconds: number, peakMiB: number): string[] {
  const problems: string[] = [];
  if (!message.includes(file)) problems.push(`${c.name}: the message does not name ${file}: ${message}`);
  if (!c.reason.test(message)) problems.push(`${c.name}: the message does not say ${c.reason}: ${message}`);
  if (!(seconds <= CASE_SECONDS)) problems.push(`${c.name}: took ${seconds.toFixed(1)} s, more than ${CASE_SECONDS} s`);
  if (!(peakMiB <= PEAK_MIB)) problems.push(`${c.name}: peak memory ${peakMiB.toFixed(0)} MiB, more than ${PEAK_MIB} MiB (or not measured)`);
  return problems;
}

function printTable(t: { diagnostic(message: string): void }, who: string, figures: Map<string, Figures>, timed: string): void {
  t.diagnostic(`${who}: seconds (${timed}; bound ${CASE_SECONDS} s) and peak resident memory (bound ${PEAK_MIB} MiB)`);
  for (const c of CASES) {
    const f = figures.get(c.name);
    const row = f ? `${f.seconds.toFixed(2).padStart(6)} s ${f.peakMiB.toFixed(0).padStart(5)} MiB  ${f.message.replaceAll(tmp, '…').replace(/\s+/g, ' ').slice(0, 150)}` : '(not run)';
    t.diagnostic(`  ${c.name.padEnd(28)} ${row}`);
  }
}
