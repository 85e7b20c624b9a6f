/**
 * Fault probe (a), `npm run test:faults`: training as a user runs it (`workbench train`, then `workbench resume`)
 * killed with SIGKILL at KILLS seeded random moments. A checkpoint every 3 steps and an evaluation every 10 put
 * many kills inside checkpoint, metrics.jsonl, TensorBoard and run.json writes; some land while a resume starts
 * (restoring, setting checkpoints aside, cutting the curves back). After every kill every file of the run folder
 * must parse (run.json by its schema, metrics.jsonl but for a torn last line, each TensorBoard event file by the
 * independent reader ../shared/reference/read_tfevents.py, tokenizer.json by the engine's loader, every
 * checkpoint.json and pointer), every checkpoint must load (or sit in checkpoints/damaged/), and no checkpoint
 * may be lost. At the end `workbench resume` finishes the run, whose final weights and optimizer state and whose
 * whole curve equal, bit for bit, those of the same experiment trained without a kill on the same backend (cpu).
 *
 * WB_FAULTS_SEED replays a schedule (the seed is printed); WB_FAULTS_KILLS changes how many kills.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CheckpointManifest, CheckpointPointer } from '../../common/runFolder';
import { isTempName } from '../../common/node/atomicWrite';
import { AttentionStatsLine } from '../../common/attentionMaps';
import { ATTENTION_STATS_FILE, CHECKPOINTS_DIR, METRICS_FILE, RUN_JSON, TOKENIZER_FILE, readRunJson } from '../../common/node/runFiles';
import { readJsonLines } from '../runs/jsonLinesLog';
import { LOCK_FILE } from '../../common/node/runLock';
import { BEST_POINTER, DAMAGED_DIR, LAST_POINTER, MODEL_FILE, OPTIMIZER_FILE, checkpointName, listCheckpoints, loadCheckpoint } from '../runs/checkpoint';
import { readMetrics, type MetricsRecord } from '../runs/metricsLog';
import { EVENT_FILE_MARKER, listEventFiles } from '../runs/tensorboard';
import { loadTokenizer } from '../tokenizers';
import { PYTHON, TFEVENTS_READER, runPython } from '../testing';

const KILLS = Number(process.env.WB_FAULTS_KILLS ?? 50);
const SEED = Number(process.env.WB_FAULTS_SEED ?? Date.now() % 1_000_000);
const STEPS = 200;
const CHECKPOINT_INTERVAL = 3;
/** Scalars that measure time, not training: they differ between any two runs. */
const TIMING = /^(perf|progress)\//;

const root = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(root, 'bin/workbench.js');
const SHAKESPEARE = path.resolve(root, '../shared/data/tinyshakespeare.txt');
/**
 * A character-level GPT small enough that a step takes tens of milliseconds, checkpointed every 3 steps and
 * evaluated every 10 (weights and gradient histograms then go to the event file too).
 */
const TINY_GPT = {
  format: 'transformer-workbench.experiment', version: 2, name: 'tiny',
  cells: [
    { id: 'd', kind: 'dataset', dataset: { source: { kind: 'file', path: 'small.txt', unit: 'file' }, split: 'tail', cleaning: { minChars: 0 } }, tokenizer: { kind: 'char' } },
    { id: 'm', kind: 'model', model: { arch: 'gpt', contextLength: 16, dModel: 16, nHeads: 2, nLayers: 1 } },
    { id: 'p', kind: 'pretrain', pretrain: { steps: STEPS, batchSize: 4, evalInterval: 10, evalBatches: 1, checkpointInterval: CHECKPOINT_INTERVAL, keepCheckpoints: 3, backend: 'cpu', schedule: { warmupSteps: 5 } } },
  ],
};
let tmp: string;
let experiment: string;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-kills-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 40_000));
  experiment = path.join(tmp, 'tiny.experiment.json');
  fs.writeFileSync(experiment, JSON.stringify(TINY_GPT));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A seeded generator in [0, 1), so that a failing schedule can be replayed with the seed it printed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

interface Line { type: string; step?: number; status?: string; runDir?: string; run_dir?: string; message?: string; /** when it arrived (performance.now()) */ at: number }

/** `workbench ARGS --json` as a child: its JSON lines as they come, and a way to wait for one. */
function workbench(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], {
    cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache') },
  });
  const lines: Line[] = [];
  const watchers: (() => void)[] = [];
  let buf = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      lines.push({ ...JSON.parse(buf.slice(0, nl)), at: performance.now() });
      buf = buf.slice(nl + 1);
    }
    watchers.splice(0).forEach((w) => w());
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  void exited.then(() => watchers.splice(0).forEach((w) => w()));
  return {
    child, lines, exited, stderr: () => stderr,
    /** resolves once `test` holds of the lines so far, or the child has exited */
    until(test: (lines: Line[]) => boolean): Promise<void> {
      return new Promise((resolve) => {
        const check = () => { if (test(lines) || child.exitCode !== null || child.signalCode !== null) resolve(); else watchers.push(check); };
        check();
      });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stepLines = (lines: Line[]) => lines.filter((l) => l.type === 'step');

/**
 * How long a step takes, and a checkpoint after its step is reported, on this machine: the kill delays are
 * fractions of these, so that the schedule lands in the same places on a fast machine and a slow one.
 */
class Pace {
  step = 60;
  save = 30;
  learn(lines: Line[]): void {
    const steps = stepLines(lines);
    for (let i = 1; i < steps.length; i++) this.step = 0.8 * this.step + 0.2 * (steps[i].at - steps[i - 1].at);
    for (const c of lines.filter((l) => l.type === 'checkpoint')) {
      const reported = steps.find((l) => l.step === c.step);
      if (reported) this.save = 0.8 * this.save + 0.2 * (c.at - reported.at);
    }
  }
}

/** The independent reader over several event files in one Python process: per file, its exit code and summary. */
function readEventFiles(files: string[]): { file: string; code: number; summary: { records: number; errors: string[]; scalars: Record<string, [number, number][]> } }[] {
  if (!files.length) return [];
  const program = [
    'import contextlib, importlib.util, io, json, sys',
    "spec = importlib.util.spec_from_file_location('read_tfevents', sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)",
    'for f in sys.argv[2:]:',
    '    out = io.StringIO()',
    '    with contextlib.redirect_stdout(out): code = m.main(f)',
    "    print(json.dumps({'file': f, 'code': code, 'summary': json.loads(out.getvalue())}))",
  ].join('\n');
  const r = runPython(['-c', program, TFEVENTS_READER, ...files]);
  assert.equal(r.status, 0, `${PYTHON} ${TFEVENTS_READER}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

/** What one look at a run folder found. */
interface Inspection {
  /** steps of metrics.jsonl, in order */
  steps: number[];
  tornMetrics: boolean;
  /** the newest event file ends in a record the kill cut short (a resume drops it) */
  tornEvents: boolean;
  /** the newest checkpoint's step, 0 when none */
  newest: number;
  /** temporaries of interrupted atomic writes: in checkpoints/ and beside run.json */
  checkpointTemps: number;
  runFolderTemps: number;
  damaged: number;
}

/** Event files already read whole, by name, with the size they had: a file that has not changed is not read again. */
const eventFilesRead = new Map<string, number>();

/** Every file of the run folder parses and every checkpoint loads; throws naming the first that does not. */
async function inspect(runDir: string): Promise<Inspection> {
  const found: Inspection = { steps: [], tornMetrics: false, tornEvents: false, newest: 0, checkpointTemps: 0, runFolderTemps: 0, damaged: 0 };
  const eventFiles: string[] = [];
  for (const name of fs.readdirSync(runDir)) {
    const file = path.join(runDir, name);
    if (isTempName(name)) { found.runFolderTemps++; continue; }
    if (name === RUN_JSON) await readRunJson(runDir);
    else if (name === METRICS_FILE) {
      const m = await readMetrics(runDir);
      assert.deepEqual(m.problems, [], `${file}: every complete line is a metrics line`);
      found.steps = m.records.map((r) => r.step);
      found.tornMetrics = m.tornTail;
    } else if (name === ATTENTION_STATS_FILE) {
      const a = await readJsonLines(file, AttentionStatsLine, 'attention statistics');
      assert.deepEqual(a.problems, [], `${file}: every complete line is an attention-statistics line`);
    } else if (name === TOKENIZER_FILE) loadTokenizer(file);
    else if (name === LOCK_FILE) continue; // written whole or not at all matters not: a lock nobody holds is taken over
    else if (name.includes(EVENT_FILE_MARKER)) {
      if (eventFilesRead.get(file) !== fs.statSync(file).size) eventFiles.push(file);
    } else if (name !== CHECKPOINTS_DIR) assert.fail(`${file}: a file the run folder should not hold`);
  }
  // A SIGKILL can stop a write between pages (the kernel checks for a fatal signal as it copies), so the file
  // the killed process was appending to may end in a torn record, as metrics.jsonl may end in a torn line.
  // TensorBoard reads up to it, and the next resume cuts it off before it opens a new file: any other file
  // must be whole.
  const newestEventFile = (await listEventFiles(runDir)).at(-1);
  for (const r of readEventFiles(eventFiles)) {
    const tornTail = r.code !== 0 && r.file === newestEventFile && r.summary.errors.length === 1 && /^truncated (record|header) at \d+$/.test(r.summary.errors[0]);
    if (tornTail) { found.tornEvents = true; continue; }
    assert.deepEqual([r.code, r.summary.errors], [0, []], `${r.file}: the independent reader finds it whole`);
    eventFilesRead.set(r.file, fs.statSync(r.file).size);
  }

  const ckDir = path.join(runDir, CHECKPOINTS_DIR);
  const listed = new Set((await listCheckpoints(runDir)).map((c) => c.name));
  for (const name of fs.existsSync(ckDir) ? fs.readdirSync(ckDir) : []) {
    const file = path.join(ckDir, name);
    if (isTempName(name)) found.checkpointTemps++;
    else if (name === LAST_POINTER || name === BEST_POINTER) CheckpointPointer.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
    else if (name === DAMAGED_DIR) found.damaged = fs.readdirSync(file).length;
    else if (listed.has(name)) {
      const ck = await loadCheckpoint(file);
      CheckpointManifest.parse(ck.manifest);
      found.newest = Math.max(found.newest, ck.manifest.step);
    } else assert.fail(`${file}: neither a checkpoint, a pointer, a temporary nor damaged/`);
  }
  return found;
}

/** metrics.jsonl without the scalars that measure time: what two runs of the same experiment share bit for bit. */
function curve(records: MetricsRecord[]) {
  return records.map((r) => ({ step: r.step, tokens: r.tokens, scalars: Object.fromEntries(Object.entries(r.scalars).filter(([k]) => !TIMING.test(k))) }));
}

/** train/loss over every event file of a run, by step (the independent reader's float32 values). */
function eventLoss(runDir: string): [number, number][] {
  const files = fs.readdirSync(runDir).filter((n) => n.includes(EVENT_FILE_MARKER) && !isTempName(n)).map((n) => path.join(runDir, n));
  return readEventFiles(files).flatMap((r) => r.summary.scalars['train/loss'] ?? []).sort((a, b) => a[0] - b[0]);
}

it(`SIGKILL at ${KILLS} random moments of training and resuming: every file parses, every checkpoint loads, the resumed run equals an unbroken one bit for bit`, async (t) => {
  const t0 = performance.now();
  // the unbroken run trains beside the broken one: the same experiment, the same backend
  const reference = workbench(['train', experiment, '--out', 'reference']);
  const rand = random(SEED);
  const pace = new Pace();
  const out = { atStart: 0, inSave: 0, anywhere: 0, leftCheckpointTemps: 0, leftRunFolderTemps: 0, tornMetrics: 0, tornEvents: 0 };
  let runDir = '';
  let newest = 0;
  try {
    for (let k = 0; k < KILLS; k++) {
      const w = workbench(runDir ? ['resume', runDir] : ['train', experiment, '--out', 'broken']);
      const where = rand();
      const n = 1 + Math.floor(rand() * 4);
      if (runDir && where < 0.15) {
        // while it starts: loading, restoring, setting checkpoints aside, cutting the curves back
        out.atStart++;
        await Promise.race([sleep(rand() * 2500), w.until((l) => stepLines(l).length > 0)]);
      } else if (where < 0.6) {
        // inside a checkpoint save (with the metrics, TensorBoard and run.json writes around it): after the n-th
        // step or later, the first step that is saved, within the time its save takes
        out.inSave++;
        await w.until((l) => stepLines(l).length >= n && stepLines(l).at(-1)!.step! % CHECKPOINT_INTERVAL === 0);
        await sleep(rand() * 1.2 * pace.save);
      } else {
        // anywhere within a step and a half of the n-th step
        out.anywhere++;
        await w.until((l) => stepLines(l).length >= n);
        await sleep(rand() * 1.5 * pace.step);
      }
      assert.ok(w.child.exitCode === null, `kill ${k} (seed ${SEED}): the run ended before it was killed (exit ${w.child.exitCode}): ${w.stderr()}`);
      w.child.kill('SIGKILL');
      await w.exited;
      pace.learn(w.lines);
      runDir ||= String(w.lines.find((l) => l.runDir)?.runDir ?? '');
      assert.ok(runDir, `kill ${k} (seed ${SEED}): the run folder was announced`);

      let seen: Inspection;
      try {
        seen = await inspect(runDir);
      } catch (e) {
        throw new Error(`after kill ${k} (seed ${SEED}): ${(e as Error).message}`);
      }
      assert.ok(seen.newest >= newest, `kill ${k} (seed ${SEED}): the newest checkpoint went back from step ${newest} to ${seen.newest}`);
      assert.deepEqual(seen.steps, Array.from({ length: seen.steps.length }, (_, i) => i + 1), `kill ${k} (seed ${SEED}): metrics.jsonl holds steps 1, 2, … without a gap or a repeat`);
      newest = seen.newest;
      if (seen.checkpointTemps) out.leftCheckpointTemps++;
      if (seen.runFolderTemps) out.leftRunFolderTemps++;
      if (seen.tornMetrics) out.tornMetrics++;
      if (seen.tornEvents) out.tornEvents++;
    }
    const killedAt = newest;

    const finish = workbench(['resume', runDir]);
    assert.deepEqual(await finish.exited, { code: 0, signal: null }, finish.stderr());
    const summary = finish.lines.at(-1)!;
    assert.deepEqual([summary.type, summary.status], ['summary', 'completed']);
    const refExit = await reference.exited;
    assert.deepEqual(refExit, { code: 0, signal: null }, reference.stderr());
    const refDir = String(reference.lines.at(-1)!.run_dir);

    const final = await inspect(runDir);
    assert.equal((await readRunJson(runDir)).status, 'completed');
    const last = checkpointName(STEPS);
    for (const f of [MODEL_FILE, OPTIMIZER_FILE]) {
      assert.ok(
        fs.readFileSync(path.join(runDir, CHECKPOINTS_DIR, last, f)).equals(fs.readFileSync(path.join(refDir, CHECKPOINTS_DIR, last, f))),
        `${last}/${f}: the resumed run's bytes equal the unbroken run's (seed ${SEED})`,
      );
    }
    const [broken, unbroken] = [await readMetrics(runDir), await readMetrics(refDir)];
    assert.equal(broken.records.length, STEPS);
    assert.deepEqual(curve(broken.records), curve(unbroken.records), `metrics.jsonl: the curve equals the unbroken run's, step for step (seed ${SEED})`);
    assert.deepEqual(eventLoss(runDir), eventLoss(refDir), `TensorBoard train/loss over all event files equals the unbroken run's (seed ${SEED})`);

    const seconds = (performance.now() - t0) / 1000;
    t.diagnostic(`${KILLS} SIGKILLs survived (seed ${SEED}; WB_FAULTS_SEED=${SEED} replays them): ${out.atStart} while a resume started, ${out.inSave} timed to a checkpoint save (~${pace.save.toFixed(0)} ms here), ${out.anywhere} anywhere in a step (~${pace.step.toFixed(0)} ms)`);
    t.diagnostic(`kills that left an atomic write half done: ${out.leftCheckpointTemps} in checkpoints/, ${out.leftRunFolderTemps} in the run folder (run.json, metrics.jsonl or an event file being replaced); ${out.tornMetrics} left a torn last metrics line, ${out.tornEvents} a torn last TensorBoard record; ${final.damaged} checkpoints set aside in damaged/`);
    t.diagnostic(`newest checkpoint at the last kill: step ${killedAt} of ${STEPS}; resumed to the end: model.safetensors, optimizer.safetensors, ${STEPS} metrics lines and the TensorBoard loss equal the unbroken run's bit for bit (cpu); ${seconds.toFixed(0)} s`);
  } finally {
    for (const c of [reference.child]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
});
