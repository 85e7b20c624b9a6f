/**
 * metrics.jsonl: one JSON object per line (MetricsLine in common/runFolder.ts), appended as training goes,
 * a JSON Lines log of steps (./jsonLinesLog.ts: what a crash leaves, what a resume drops).
 *
 * RunLog writes each line to metrics.jsonl and its scalars to a TensorBoard event file together, which is
 * what makes the two agree; it also keeps attention-stats.jsonl, cut back alike on resume.
 */
import path from 'node:path';
import { MetricsLine, decodeScalar, encodeScalar } from '../../common/runFolder';
import { AttentionStatsLine } from '../../common/attentionMaps';
import { ATTENTION_STATS_FILE, METRICS_FILE } from '../../common/node/runFiles';
import { JsonLinesLog, readJsonLines, type OpenJsonLinesOptions } from './jsonLinesLog';
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

function toRecord(l: MetricsLine): MetricsRecord {
  const scalars: Record<string, number> = {};
  for (const [k, v] of Object.entries(l.scalars)) scalars[k] = decodeScalar(v);
  return { step: l.step, wallTime: l.wallTime, tokens: l.tokens, scalars };
}

/** Reads metrics.jsonl (a run folder or the file itself); a missing file reads as empty. */
export async function readMetrics(runDirOrFile: string): Promise<MetricsFileContents> {
  const file = runDirOrFile.endsWith('.jsonl') ? runDirOrFile : path.join(runDirOrFile, METRICS_FILE);
  const { lines, problems, tornTail } = await readJsonLines(file, MetricsLine, 'a metrics line');
  return { records: lines.map(toRecord), problems, tornTail };
}

function toLine(m: MetricsInput): MetricsLine {
  const scalars: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(m.scalars)) scalars[k] = encodeScalar(v);
  return { step: m.step, wallTime: m.wallTime ?? Date.now() / 1000, tokens: m.tokens, scalars } as MetricsLine;
}

export type OpenMetricsOptions = OpenJsonLinesOptions;

/** The writer of one run's metrics.jsonl (see ./jsonLinesLog.ts for what a crash or a resume leaves). */
export class MetricsLog {
  private constructor(private readonly lines: JsonLinesLog<MetricsLine>) {}

  get file(): string { return this.lines.file; }

  /** Opens `<runDir>/metrics.jsonl` for appending, creating it if needed; on resume, lines after the step are dropped. */
  static async open(runDir: string, opts: OpenMetricsOptions = {}): Promise<MetricsLog> {
    return new MetricsLog(await JsonLinesLog.open(path.join(runDir, METRICS_FILE), MetricsLine, 'a metrics line', opts));
  }

  /** Throws on a line metrics.jsonl would refuse, writing nothing. */
  check(line: MetricsInput): void {
    this.lines.format(toLine(line));
  }

  /** Appends lines in one write. Resolves once the OS has them (a killed process keeps them; see sync()). */
  append(lines: MetricsInput | MetricsInput[]): Promise<void> {
    return this.lines.append((Array.isArray(lines) ? lines : [lines]).map(toLine));
  }

  /** Waits until everything appended is on disk: call it before a checkpoint is declared written. */
  sync(): Promise<void> {
    return this.lines.sync();
  }

  close(): Promise<void> {
    return this.lines.close();
  }
}

export interface OpenRunLogOptions extends OpenMetricsOptions, EventFileOptions {}

/**
 * metrics.jsonl and a TensorBoard event file in the run folder, written together. On resume both are cut
 * back to the resumed step first; each process then writes a new event file (TensorBoard's convention).
 */
export class RunLog {
  private constructor(readonly metrics: MetricsLog, readonly events: EventFileWriter, private readonly attention: JsonLinesLog<AttentionStatsLine>) {}

  static async open(runDir: string, opts: OpenRunLogOptions = {}): Promise<RunLog> {
    if (opts.resumeStep !== undefined) await truncateEventFiles(runDir, opts.resumeStep);
    const metrics = await MetricsLog.open(runDir, opts);
    const events = await EventFileWriter.create(runDir, opts);
    const attention = await JsonLinesLog.open(path.join(runDir, ATTENTION_STATS_FILE), AttentionStatsLine, 'an attention statistics line', opts);
    return new RunLog(metrics, events, attention);
  }

  /** One evaluation's head statistics on the probe set, to attention-stats.jsonl. */
  async attentionStats(line: AttentionStatsLine): Promise<void> {
    await this.attention.append(line);
  }

  /** One line of metrics.jsonl and the same scalars at the same step in the event file; both written now. */
  async log(line: MetricsInput): Promise<void> {
    const wallTime = line.wallTime ?? Date.now() / 1000;
    const full = { ...line, wallTime };
    this.metrics.check(full); // a line metrics.jsonl would refuse goes to neither file
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
    await Promise.all([this.metrics.sync(), this.events.flush({ sync: true }), this.attention.sync()]);
  }

  async close(): Promise<void> {
    await Promise.all([this.metrics.close(), this.events.close(), this.attention.close()]);
  }
}
