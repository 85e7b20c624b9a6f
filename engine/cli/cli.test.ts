/**
 * The command line as a user meets it: real processes. Bad arguments get the usage and exit 2 without a
 * stack trace; a run killed with SIGKILL mid-training resumes with `workbench resume` and its curve
 * continues without a gap or a duplicate; every checkpoint left on disk loads. Ctrl+C and SIGTERM, during
 * data preparation or training, end the run as 'cancelled' (twice: 'interrupted') with exit code 128 + signal.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listCheckpoints, loadCheckpoint } from '../runs/checkpoint';
import { readMetrics } from '../runs/metricsLog';

const root = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(root, 'bin/workbench.js');
const SHAKESPEARE = path.resolve(root, '../shared/data/tinyshakespeare.txt');
let tmp: string;
let experiment: string;
let bert: string;

const env = () => ({ ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache') });

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: tmp, env: env() });
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 40_000));
  experiment = path.join(tmp, 'tiny.experiment.json');
  fs.writeFileSync(experiment, JSON.stringify({
    format: 'transformer-workbench.experiment', version: 2, name: 'tiny',
    cells: [
      { id: 'd', kind: 'dataset', dataset: { source: { kind: 'file', path: 'missing.txt', unit: 'file' }, split: 'tail', cleaning: { normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } }, tokenizer: { kind: 'char' } },
      { id: 'm', kind: 'model', model: { arch: 'gpt', contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2 } },
      { id: 'p', kind: 'pretrain', pretrain: { steps: 400, batchSize: 8, evalInterval: 100, evalBatches: 2, checkpointInterval: 20, schedule: { warmupSteps: 5 } } },
    ],
  }));
  // the shape of the default experiment (Brown corpus, BERT with MLM + NSP), made tiny
  bert = path.join(tmp, 'bert.experiment.json');
  fs.writeFileSync(bert, JSON.stringify({
    format: 'transformer-workbench.experiment', version: 2, name: 'bert',
    cells: [
      { id: 'd', kind: 'dataset', dataset: { source: { kind: 'corpus', corpus: 'brown' } }, tokenizer: { kind: 'wordpiece', vocabSize: 600 } },
      { id: 'm', kind: 'model', model: { arch: 'bert', contextLength: 32, dModel: 32, nHeads: 2, nLayers: 1, dFF: 64 } },
      { id: 'p', kind: 'pretrain', pretrain: { objective: 'mlm-nsp', steps: 100, batchSize: 4, evalBatches: 1 } },
    ],
  }));
});
const children: ChildProcessWithoutNullStreams[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * The JSON lines of a `--json` run as they come, and its exit code (a signal's number when it died of one).
 * `slowReadsMs`: every read of a data file waits that long first (./slowReads.testing.mjs), holding the run
 * in data preparation for as long as a test needs to signal it there.
 */
function jsonRun(args: string[], { slowReadsMs }: { slowReadsMs?: number } = {}) {
  const preload = slowReadsMs ? ['--import', path.join(import.meta.dirname, 'slowReads.testing.mjs')] : [];
  const child = spawn(process.execPath, [...preload, BIN, ...args, '--json'], { cwd: tmp, env: { ...env(), WB_SLOW_READ_MS: String(slowReadsMs ?? 0) }, stdio: ['ignore', 'pipe', 'pipe'] }) as unknown as ChildProcessWithoutNullStreams;
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  const waiting: { test: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const e = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      lines.push(e);
      for (const w of waiting.splice(0)) if (w.test(e)) w.resolve(e); else waiting.push(w);
    }
  });
  const exit = new Promise<number>((resolve) => child.on('exit', (code, sig) => resolve(code ?? 128 + os.constants.signals[sig!])));
  return {
    child, lines, exit, stderr: () => stderr,
    /** the first line (seen or to come) that `test` accepts */
    next: (test: (e: Record<string, unknown>) => boolean) => new Promise<Record<string, unknown>>((resolve) => {
      const seen = lines.find(test);
      if (seen) resolve(seen); else waiting.push({ test, resolve });
    }),
  };
}

const statusOf = (runDir: string) => JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')).status;

describe('workbench command line', () => {
  it('answers bad arguments with the usage and exit code 2, never a stack trace', () => {
    for (const args of [['frobnicate'], ['train', '--steps', 'many', experiment], ['train', '--steps', '0x3', experiment], ['train', '--bogus'], ['train', experiment, '--data', 'nope.txt'], ['resume'], ['train', experiment, '--backend', 'tpu']]) {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /usage:/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('says what is wrong with a --data that is missing, or a link that loops or leads nowhere', () => {
    fs.symlinkSync('loop-b.txt', path.join(tmp, 'loop-a.txt'));
    fs.symlinkSync('loop-a.txt', path.join(tmp, 'loop-b.txt'));
    fs.symlinkSync('gone.txt', path.join(tmp, 'dangling.txt'));
    for (const [name, why] of [['loop-a.txt', /is a symbolic link that loops or leads nowhere/], ['dangling.txt', /is a symbolic link that loops or leads nowhere/], ['nope.txt', /no such file or folder/]] as const) {
      const r = cli(['train', experiment, '--data', name]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--data ${name}: ${why.source}`));
    }
  });

  it('names the problem of a bad experiment or dataset, exit code 1', () => {
    const missing = cli(['train', path.join(tmp, 'none.experiment.json')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /none\.experiment\.json: cannot be read/);
    const noData = cli(['train', experiment, '--json']);
    assert.equal(noData.status, 1);
    assert.match(noData.stderr, /missing\.txt/);
    assert.doesNotMatch(noData.stderr, /\n\s+at /);
    const summary = JSON.parse(noData.stdout.trim().split('\n').pop()!);
    assert.equal(summary.type, 'summary', 'a script reading --json gets a last line');
    assert.equal(summary.status, 'failed');
    assert.match(summary.error.message, /missing\.txt/);
  });

  it('refuses an --out or a runs listing it cannot use, saying what is wrong instead of an errno', () => {
    // root writes anywhere but into sysfs
    const locked = process.getuid?.() === 0 ? '/sys/workbench-cli-test' : path.join(tmp, 'locked');
    if (locked.startsWith(tmp)) fs.mkdirSync(locked, { mode: 0o500 });
    for (const [out, why] of [['small.txt', /--out small\.txt: is a file/], [locked, /--out .*: cannot be written/]] as const) {
      const r = cli(['train', experiment, '--data', 'small.txt', '--out', out]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.doesNotMatch(r.stderr, /EEXIST|EACCES|EPERM|mkdir/);
    }
    const notRuns = cli(['runs', 'small.txt']);
    assert.equal(notRuns.status, 1);
    assert.match(notRuns.stderr, /small\.txt: is neither an experiment/);
    assert.doesNotMatch(notRuns.stderr, /ENOTDIR|scandir/);
    const typo = cli(['runs', 'tiyn.experiment.json']);
    assert.equal(typo.status, 1);
    assert.match(typo.stderr, /tiyn\.experiment\.json: no such experiment file/);
    fs.copyFileSync(experiment, path.join(tmp, 'other.experiment.json'));
    for (const none of [cli(['runs', 'other.experiment.json']), cli(['runs', 'other.runs'])]) {
      assert.equal(none.status, 0, none.stderr);
      assert.match(none.stdout, /no runs in/);
    }
  });

  it('--data keeps the experiment for another text: a Brown-corpus BERT trains on a text file cut into paragraphs', async () => {
    const run = jsonRun(['train', bert, '--data', 'small.txt', '--steps', '2', '--out', 'bert-runs']);
    assert.equal(await run.exit, 0, run.stderr());
    const said = run.lines.find((e) => e.type === 'log' && /--data/.test(String(e.message)));
    assert.match(String(said?.message), /file .*small\.txt \(unit: paragraph\)/);
    const summary = run.lines.at(-1)!;
    assert.equal(summary.status, 'completed');
    const config = JSON.parse(fs.readFileSync(path.join(String(summary.run_dir), 'run.json'), 'utf8')).config;
    assert.deepEqual(config.spec.dataset.source, { kind: 'file', path: path.join(tmp, 'small.txt'), unit: 'paragraph' });
  });

  it('the Brown word-piece GPT example (the fine-tuning bench\'s base) trains as shipped: a causal model over the BERT example\'s word pieces', { timeout: 180_000 }, async () => {
    const run = jsonRun(['train', path.join(root, 'experiments/brown-gpt-mini.experiment.json'), '--steps', '2', '--out', 'brown-gpt-runs']);
    assert.equal(await run.exit, 0, run.stderr());
    const summary = run.lines.at(-1)!;
    assert.equal(summary.status, 'completed');
    const config = JSON.parse(fs.readFileSync(path.join(String(summary.run_dir), 'run.json'), 'utf8')).config;
    assert.deepEqual([config.spec.model.arch, config.spec.pretrain.objective, config.spec.tokenizer.kind], ['gpt', 'causal-lm', 'wordpiece']);
  });

  it("the Brown character-level GPT example trains as shipped, with no --data: the built-in corpus as one running text", { timeout: 120_000 }, async () => {
    const run = jsonRun(['train', path.join(root, 'experiments/brown-char-gpt.experiment.json'), '--steps', '3', '--out', 'brown-char-runs']);
    assert.equal(await run.exit, 0, run.stderr());
    const summary = run.lines.at(-1)!;
    assert.equal(summary.status, 'completed');
    assert.ok(Number.isFinite(summary.final_train_loss) && Number.isFinite(summary.final_val_loss), JSON.stringify(summary));
    const config = JSON.parse(fs.readFileSync(path.join(String(summary.run_dir), 'run.json'), 'utf8')).config;
    assert.deepEqual(config.spec.dataset.source, { kind: 'corpus', corpus: 'brown', as: 'text' });
    assert.ok(String(summary.run_dir).startsWith(path.join(tmp, 'brown-char-runs')), 'the run goes to --out, not into the repository');
  });

  // Slow reads of the dataset hold data preparation in its read for as long as the test likes.
  it('Ctrl+C during data preparation cancels the run: exit 130, run.json cancelled, a summary', { timeout: 60_000, skip: process.platform === 'win32' && 'POSIX signals' }, async () => {
    const run = jsonRun(['train', experiment, '--data', 'small.txt', '--out', 'signal-runs'], { slowReadsMs: 3000 });
    const { runDir } = await run.next((e) => e.status === 'preparing');
    run.child.kill('SIGINT'); // the read in progress ends, and the next one is not made
    assert.equal(await run.exit, 130, run.stderr());
    assert.deepEqual([run.lines.at(-1)!.type, run.lines.at(-1)!.status], ['summary', 'cancelled']);
    // the trainer records a preparation stopped on purpose as cancelled, not failed
    assert.equal(statusOf(String(runDir)), 'cancelled');
  });

  it('a second signal quits at once and marks the run interrupted', { timeout: 60_000, skip: process.platform === 'win32' && 'POSIX signals' }, async () => {
    const run = jsonRun(['train', experiment, '--data', 'small.txt', '--out', 'signal-runs'], { slowReadsMs: 30_000 });
    const { runDir } = await run.next((e) => e.status === 'preparing');
    await new Promise((r) => setTimeout(r, 1500)); // into the read, which a first signal cannot cut short
    run.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill('SIGINT');
    assert.equal(await run.exit, 130, run.stderr());
    assert.equal(statusOf(String(runDir)), 'interrupted');
  });

  it('SIGTERM during training stops after the step with a checkpoint: exit 143, run.json cancelled', { timeout: 60_000, skip: process.platform === 'win32' && 'POSIX signals and FIFOs' }, async () => {
    const run = jsonRun(['train', experiment, '--data', 'small.txt', '--out', 'signal-runs']);
    await run.next((e) => e.type === 'step');
    run.child.kill('SIGTERM');
    assert.equal(await run.exit, 143, run.stderr());
    const summary = run.lines.at(-1)!;
    assert.deepEqual([summary.type, summary.status], ['summary', 'cancelled']);
    assert.equal(statusOf(String(summary.run_dir)), 'cancelled');
    assert.ok(run.lines.some((e) => e.type === 'checkpoint'));
  });

  it('resumes a run killed with SIGKILL: the curve continues and every checkpoint loads', async () => {
    const child = spawn(process.execPath, [BIN, 'train', experiment, '--data', 'small.txt', '--json', '--out', 'runs'], { cwd: tmp, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let runDir = '';
    let killedAt = 0;
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      let checkpoints = 0;
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const e = JSON.parse(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          if (e.type === 'status' && e.runDir) runDir = e.runDir;
          if (e.type === 'checkpoint') checkpoints += 1;
          // kill a few steps after the second checkpoint, in the middle of training
          if (e.type === 'step' && checkpoints >= 2 && !killedAt) { killedAt = e.step; setTimeout(() => child.kill('SIGKILL'), 15); }
        }
      });
      child.on('exit', () => (killedAt ? resolve() : reject(new Error('the run ended before it could be killed'))));
    });
    assert.ok(runDir);
    assert.match(cli(['runs', path.join(tmp, 'runs')]).stdout, new RegExp(`${path.basename(runDir)}\\s+interrupted`), 'a killed run is listed as interrupted, not running');
    const beforeResume = (await readMetrics(runDir)).records.map((r) => r.step);
    assert.ok(beforeResume.length >= killedAt - 1, 'the curve reached the kill');
    for (const c of await listCheckpoints(runDir)) await loadCheckpoint(c.dir);

    const r = cli(['resume', runDir, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(summary.type, 'summary');
    assert.equal(summary.status, 'completed');
    assert.equal(summary.steps, 400);
    assert.match(r.stdout, /resumed from checkpoint step-000000[0-9]{2}/);
    const steps = (await readMetrics(runDir)).records.map((x) => x.step);
    assert.deepEqual(steps, Array.from({ length: 400 }, (_, i) => i + 1), 'one line per step, no gap, no duplicate');
    for (const c of await listCheckpoints(runDir)) await loadCheckpoint(c.dir);

    const list = cli(['runs', experiment.replace('.experiment.json', '.runs'), '--json']);
    assert.equal(list.status, 0);
    const listed = cli(['runs', path.join(tmp, 'runs')]);
    assert.match(listed.stdout, /completed\s+400/);
  });
});
