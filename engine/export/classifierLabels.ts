/**
 * The label names a classifier's bundle carries (config.json's id2label, the model card), in the order of its
 * logits. The run folder's own report (eval/classification.json, written at every evaluation) comes first:
 * it travels with the run, so an export still works after the task's JSON Lines file has moved. Before the
 * first evaluation the task itself says them (Brown's genres, or the JSONL file if it is still there); a
 * compressed variant of a classifier has its base's. Where none answers, the export is refused naming each
 * place looked at and how to fix it.
 */
import path from 'node:path';
import { CLASSIFICATION_REPORT_FILE, type ClassificationReport } from '../../common/classificationReport';
import { EngineError } from '../../common/errors';
import { readClassificationReport } from '../../common/node/classificationReport';
import type { RunConfig } from '../../common/runConfig';
import { taskLabels } from '../finetune/classificationKind';

export interface ClassifierFacts {
  labels: string[];
  /** the run's own last evaluation on its test split, or null before its first (or for a compressed variant) */
  report: ClassificationReport | null;
}

const refuse = (message: string) => new EngineError('INVALID_CONFIG', message, ['runDir']);

/** A classifier run's labels and last evaluation; null for a language model (no numLabels). */
export async function classifierFacts(runDir: string, config: RunConfig, numLabels: number | undefined): Promise<ClassifierFacts | null> {
  if (numLabels === undefined) return null;
  const report = await readReport(runDir);
  if (report) return { labels: checked(report.labels, numLabels, path.join(runDir, CLASSIFICATION_REPORT_FILE)), report };
  const looked = [`${path.join(runDir, CLASSIFICATION_REPORT_FILE)} (missing: the run has not evaluated yet)`];
  if (config.task === 'finetune' && config.finetune.data.kind !== 'domain') {
    const data = config.finetune.data;
    const source = data.kind === 'jsonl' ? data.file : 'the Brown genres';
    const labels = await taskLabels(data).catch((err: Error) => { looked.push(`its task, ${source} (${err.message})`); return null; });
    if (labels) return { labels: checked(labels, numLabels, source), report: null };
  } else if (config.task === 'compress') {
    const base = await readReport(config.base.runDir);
    if (base) return { labels: checked(base.labels, numLabels, path.join(config.base.runDir, CLASSIFICATION_REPORT_FILE)), report: null };
    looked.push(`its base run's ${path.join(config.base.runDir, CLASSIFICATION_REPORT_FILE)} (missing)`);
  }
  throw refuse(`${runDir}: a classifier of ${numLabels} labels, whose label names config.json needs, found in none of: ${looked.join('; ')}. Resume or re-run the fine-tuning until it evaluates (it writes ${CLASSIFICATION_REPORT_FILE}), or put the task file back where the run read it`);
}

async function readReport(runDir: string): Promise<ClassificationReport | null> {
  try {
    return await readClassificationReport(runDir);
  } catch (err) {
    throw refuse(`cannot export the classifier: ${(err as Error).message}`);
  }
}

function checked(labels: string[], numLabels: number, source: string): string[] {
  if (labels.length !== numLabels) throw refuse(`labels of ${source}: ${labels.length} (${labels.slice(0, 5).join(', ')}${labels.length > 5 ? ', …' : ''}), but the model has ${numLabels} outputs; the file changed since the run trained — export a run whose labels match`);
  return labels;
}
