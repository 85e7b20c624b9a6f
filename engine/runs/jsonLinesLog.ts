/**
 * An append-only JSON Lines file of a run whose lines each belong to a training step (metrics.jsonl,
 * attention-stats.jsonl): each append is one write of whole lines, so a killed process leaves complete
 * lines and, at worst after a power cut, one torn last line without its newline. Readers ignore that line;
 * opening the file for writing removes it, and on resume also drops every line after the resumed step, so
 * the file continues from the checkpoint without duplicates or a stale branch.
 */
import fsp from 'node:fs/promises';
import type { z } from 'zod';
import { writeFileAtomic } from '../../common/node/atomicWrite';
import { RunFileError } from '../../common/node/runFiles';
import { formatIssues } from '../../common/zodIssues';

export interface ParsedLine<L> { text: string; line?: L; problem?: string }

/** The lines of `text` checked against `schema`: unreadable ones carry a problem naming the file and line; a last line without its newline is torn. */
export function parseJsonLines<L>(file: string, text: string, schema: z.ZodType<L>, what: string): { lines: ParsedLine<L>[]; tornTail: boolean } {
  const parts = text.split('\n');
  const tail = parts.pop() ?? '';
  const lines = parts.map((t, i): ParsedLine<L> => {
    if (t.trim() === '') return { text: t };
    let raw: unknown;
    try {
      raw = JSON.parse(t);
    } catch {
      return { text: t, problem: `${file}: line ${i + 1} is not JSON; it is skipped` };
    }
    const r = schema.safeParse(raw);
    if (!r.success) return { text: t, problem: `${file}: line ${i + 1} is not ${what} (${formatIssues(r.error)}); it is skipped` };
    return { text: t, line: r.data };
  });
  return { lines, tornTail: tail.length > 0 };
}

/** Reads the file's lines; a missing file reads as empty. */
export async function readJsonLines<L>(file: string, schema: z.ZodType<L>, what: string): Promise<{ lines: L[]; problems: string[]; tornTail: boolean }> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], problems: [], tornTail: false };
    throw e;
  }
  const { lines, tornTail } = parseJsonLines(file, text, schema, what);
  return { lines: lines.flatMap((l) => (l.line ? [l.line] : [])), problems: lines.flatMap((l) => (l.problem ? [l.problem] : [])), tornTail };
}

export interface OpenJsonLinesOptions {
  /** resuming from a checkpoint at this step: lines of later steps are dropped */
  resumeStep?: number;
}

/** The writer of one such file. */
export class JsonLinesLog<L extends { step: number }> {
  private writes: Promise<void> = Promise.resolve();

  private constructor(readonly file: string, private readonly fh: fsp.FileHandle, private readonly schema: z.ZodType<L>, private readonly what: string) {}

  /**
   * Opens `file` for appending, creating it if needed. A torn last line is removed; with resumeStep, so is
   * every line of a later step. The file is rewritten (atomically) only if that changes it.
   */
  static async open<L extends { step: number }>(file: string, schema: z.ZodType<L>, what: string, opts: OpenJsonLinesOptions = {}): Promise<JsonLinesLog<L>> {
    let text: string | undefined;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      const { lines, tornTail } = parseJsonLines(file, text, schema, what);
      const { resumeStep } = opts;
      // unreadable lines are kept as they are: they are reported on read, and are not ours to destroy
      const kept = resumeStep === undefined ? lines : lines.filter((l) => !l.line || l.line.step <= resumeStep);
      if (tornTail || kept.length !== lines.length) await writeFileAtomic(file, kept.map((l) => `${l.text}\n`).join(''));
    }
    return new JsonLinesLog(file, await fsp.open(file, 'a'), schema, what);
  }

  /** The line as it will be written; a line the schema refuses throws, naming the file. */
  format(line: L): string {
    const r = this.schema.safeParse(line);
    if (!r.success) throw new RunFileError(this.file, `refused ${this.what}: ${formatIssues(r.error)}`);
    return `${JSON.stringify(r.data)}\n`;
  }

  /** Appends lines in one write. Resolves once the OS has them (a killed process keeps them; see sync()). */
  append(lines: L | L[]): Promise<void> {
    let text: string;
    try {
      text = (Array.isArray(lines) ? lines : [lines]).map((l) => this.format(l)).join('');
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
