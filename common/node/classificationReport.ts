/** A fine-tuned classifier's last evaluation (common/classificationReport.ts), read back from its run folder: the host's view, the CLI's summary, the bench. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { CLASSIFICATION_REPORT_FILE, ClassificationReport } from '../classificationReport';

/** The report is a few KiB (a 256-label confusion matrix: ~200 KiB); a larger file is not one the engine wrote. */
export const MAX_REPORT_BYTES = 4 * 1024 * 1024;

/** The run's report, or null before its first evaluation; a file that is too large or not a report is an error naming it. */
export async function readClassificationReport(runDir: string): Promise<ClassificationReport | null> {
  const file = path.join(runDir, CLASSIFICATION_REPORT_FILE);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > MAX_REPORT_BYTES) throw new Error(`${file}: is ${st.isFile() ? `${st.size} bytes, more than the ${MAX_REPORT_BYTES} a report can be` : 'not a regular file'}; evaluate the run again to rewrite it`);
    const r = ClassificationReport.safeParse(JSON.parse(await fh.readFile('utf8')));
    if (!r.success) throw new Error(`${file}: is not a classification report (${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}); evaluate the run again to rewrite it`);
    return r.data;
  } catch (err) {
    if (err instanceof SyntaxError) throw new Error(`${file}: is not JSON (${err.message}); evaluate the run again to rewrite it`);
    throw err;
  } finally {
    await fh.close();
  }
}
