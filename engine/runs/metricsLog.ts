/**
 * metrics.jsonl: one JSON object per line (MetricsLine in common/runFolder.ts), appended as training goes.
 * Each append is one write of whole lines, so a killed process leaves complete lines and, at worst after a
 * power cut, one torn last line without its newline. Readers ignore that line; opening the log for writing
 * removes it, and on resume also drops every line after the resumed step, so the curve continues from
 * the checkpoint without duplicates or a stale branch.
 *
 * RunLog writes each line to metrics.jsonl and its scalars to a TensorBoard event file together, which is
 * what makes the two agree.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MetricsLine, decodeScalar, encodeScalar } from '../../common/runFolder';
import { writeFileAtomic } from '../../common/node/atomicWrite';
import { METRICS_FILE, RunFileError } from '../../common/node/runFiles';
import { formatIssues } from '../../common/zodIssues';
import { EventFileWriter, truncateEventFiles, type EventFileOptions } from './tensorboard';

/** A metrics line as the trainer gives it and as readers get it back: scalars as plain numbers (NaN allowed). */
export interface MetricsRecord {
  step: number;
  /** seconds since the epoch; default now */
  wallTime: number;
  tokens: number;
  scalars: Record<string, number>;
}
export type MetricsInput = Omit<MetricsRecord, 'wallTime'> & { wallTime?: number };

export interface MetricsFileContents {
  records: MetricsRecord[];
  /** lines that are complete but unreadable: reported, skipped */
  problems: string[];
  /** whether the file ended in a line without its newline (a write cut short), which was ignored */
  tornTail: boolean;
}

interface ParsedLine { text: string; record?: MetricsRecord; problem?: string }

function splitLines(file: string, text: string): { lines: ParsedLine[]; tornTail: boolean } {
  const parts = text.split('\n');
  const tail = parts.pop() ?? '';
  const lines = parts.map((t, i): ParsedLine => {
    if (t.trim() === '') return { text: t };
    let raw: unknown;
    try {
      raw = JSON.parse(t);
    } catch {
      return { text: t, problem: `${file}: line ${i + 1} is not JSON; it is skipped` };
    }
    const r = MetricsLine.safeParse(raw);
    if (!r.success) return { text: t, problem: `${file}: line ${i + 1} is not a metrics line (${formatIssues(r.error)}); it is skipped` };
    const scalars: Record<string, number> = {};
    for (const [k, v] of Object.entries(r.data.scalars)) scalars[k] = decodeScalar(v);
    return { text: t, record: { step: r.data.step, wallTime: r.data.wallTime, tokens: r.data.tokens, scalars } };
  });
  return { lines, tornTail: tail.length > 0 };
}

/** Reads metrics.jsonl (a run folder or the file itself); a missing file reads as empty. */
export async function readMetrics(runDirOrFile: string): Promise<MetricsFileContents> {
  const file = runDirOrFile.endsWith('.jsonl') ? runDirOrFile : path.join(runDirOrFile, METRICS_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [], tornTail: false };
    throw e;
  }
  const { lines, tornTail } = splitLines(file, text);
  return {
    records: lines.flatMap((l) => (l.record ? [l.record] : [])),
    problems: lines.flatMap((l) => (l.problem ? [l.problem] : [])),
    tornTail,
  };
}

function toLine(file: string, m: MetricsInput): string {
  const scalars: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(m.scalars)) scalars[k] = encodeScalar(v);
  const r = MetricsLine.safeParse({ step: m.step, wallTime: m.wallTime ?? Date.now() / 1000, tokens: m.tokens, scalars });
  if (!r.success) throw new RunFileError(file, `refused a metrics line: ${formatIssues(r.error)}`);
  return `${JSON.stringify(r.data)}\n`;
}

export interface OpenMetricsOptions {
  /** resuming from a checkpoint at this step: lines of later steps are dropped */
  resumeStep?: number;
}

/** The writer of one run's metrics.jsonl. */
export class MetricsLog {
  private writes: Promise<void> = Promise.resolve();

  private constructor(readonly file: string, private readonly fh: fsp.FileHandle) {}

  /**
   * Opens `<runDir>/metrics.jsonl` for appending, creating it if needed. A torn last line is removed; with
   * resumeStep, so is every line of a later step. The file is rewritten (atomically) only if that changes it.
   */
  static async open(runDir: string, opts: OpenMetricsOptions = {}): Promise<MetricsLog> {
    const file = path.join(runDir, METRICS_FILE);
    let text: string | undefined;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      const { lines, tornTail } = splitLines(file, text);
      const { resumeStep } = opts;
      // unreadable lines are kept as they are: they are reported on read, and are not ours to destroy
      const kept = resumeStep === undefined ? lines : lines.filter((l) => !l.record || l.record.step <= resumeStep);
      if (tornTail || kept.length !== lines.length) await writeFileAtomic(file, kept.map((l) => `${l.text}\n`).join(''));
    }
    return new MetricsLog(file, await fsp.open(file, 'a'));
  }

  /** Appends lines in one write. Resolves once the OS has them (a killed process keeps them; see sync()). */
  append(lines: MetricsInput | MetricsInput[]): Promise<void> {
    let text: string;
    try {
      text = (Array.isArray(lines) ? lines : [lines]).map((l) => toLine(this.file, l)).join('');
    } catch (e) {
      return Promise.reject(e);
    }
    const write = this.writes.then(async () => {
      if (text) await this.fh.appendFile(text);
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  /** Waits until everything appended is on disk: call it before a checkpoint is declared written. */
  sync(): Promise<void> {
    const write = this.writes.then(() => this.fh.datasync());
    this.writes = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.sync();
    await this.fh.close();
  }
}

export interface OpenRunLogOptions extends OpenMetricsOptions, EventFileOptions {}

/**
 * metrics.jsonl and a TensorBoard event file in the run folder, written together. On resume both are cut
 * back to the resumed step first; each process then writes a new event file (TensorBoard's convention).
 */
export class RunLog {
  private constructor(readonly metrics: MetricsLog, readonly events: EventFileWriter) {}

  static async open(runDir: string, opts: OpenRunLogOptions = {}): Promise<RunLog> {
    if (opts.resumeStep !== undefined) await truncateEventFiles(runDir, opts.resumeStep);
    const metrics = await MetricsLog.open(runDir, opts);
    const events = await EventFileWriter.create(runDir, opts);
    return new RunLog(metrics, events);
  }

  /** One line of metrics.jsonl and the same scalars at the same step in the event file; both written now. */
  async log(line: MetricsInput): Promise<void> {
    const wallTime = line.wallTime ?? Date.now() / 1000;
    const full = { ...line, wallTime };
    toLine(this.metrics.file, full); // a line metrics.jsonl would refuse goes to neither file
    const written = this.metrics.append(full);
    this.events.addScalars(line.scalars, line.step, wallTime);
    await Promise.all([written, this.events.flush()]);
  }

  /** Histograms (TensorBoard only), e.g. { 'weights/h.0.attn.c_attn.weight': data, 'grads/…': data }. */
  async histograms(step: number, values: Record<string, ArrayLike<number>>, wallTime?: number): Promise<void> {
    this.events.addHistograms(values, step, wallTime);
    await this.events.flush();
  }

  /** Both files on disk: call it when a checkpoint is written, so that the curves reach at least that step. */
  async sync(): Promise<void> {
    await Promise.all([this.metrics.sync(), this.events.flush({ sync: true })]);
  }

  async close(): Promise<void> {
    await Promise.all([this.metrics.close(), this.events.close()]);
  }
}
