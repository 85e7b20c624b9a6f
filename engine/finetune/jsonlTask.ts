/**
 * A user's own classification task: a JSON Lines file of {"text": …, "label": …} or {"text": …,
 * "text_pair": …, "label": …} objects, one per line. Read whole within stated bounds, every line checked
 * (an error names the line and the field, and what to write instead), labels collected into a stable list
 * (numbers in numeric order, otherwise in text order), and split by line with a seeded shuffle.
 */
import path from 'node:path';
import { JSONL_TASK_MAX_BYTES, JSONL_TASK_MAX_LINES, MAX_LABELS } from '../../common/finetuneConfig';
import { EngineError } from '../../common/errors';
import { decodeText, readFileChunks } from '../data/sources';
import type { Tokenizer } from '../tokenizers';
import { Pacer } from '../util/cooperative';
import { Rng } from '../util/random';
import { classBalance, framingTokens, heldOutUnits, truncatePair, type ClassificationSplit } from './classificationData';

export interface JsonlRecord {
  text: string;
  textPair?: string;
  label: string;
  /** 1-based line number in the file */
  line: number;
}

const FIELD = ['finetune', 'data', 'file'];
const refuse = (message: string) => new EngineError('INVALID_DATASET', message, FIELD);

/** The file's records, checked; the first bad line is refused naming the line, the field and the fix. */
export async function readJsonlTask(file: string, signal?: AbortSignal): Promise<{ records: JsonlRecord[]; labels: string[] }> {
  const chunks: Buffer[] = [];
  const tooBig = `a JSON Lines task is read whole, up to ${JSONL_TASK_MAX_BYTES / 2 ** 20} MiB and ${JSONL_TASK_MAX_LINES.toLocaleString('en')} lines; sample it down to fit`;
  for await (const c of readFileChunks(file, JSONL_TASK_MAX_BYTES, tooBig, signal)) chunks.push(c);
  const text = decodeText(Buffer.concat(chunks), file);
  const records = parseJsonlTask(text, file);
  return { records, labels: labelList(records, file) };
}

/** The records of a JSON Lines text (blank lines skipped), or INVALID_DATASET at the first bad one. */
export function parseJsonlTask(text: string, file: string): JsonlRecord[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const records: JsonlRecord[] = [];
  for (const [i, raw] of lines.entries()) {
    if (!raw.trim()) continue;
    if (records.length === JSONL_TASK_MAX_LINES) throw refuse(`${file}: has more than ${JSONL_TASK_MAX_LINES.toLocaleString('en')} records (line ${i + 1}); a JSON Lines task is read whole, up to that many: sample it down to fit`);
    records.push(parseRecord(raw, `${file}:${i + 1}`, i + 1));
  }
  if (records.length < 2) throw refuse(`${file}: has ${records.length} record(s); a task needs at least two lines of {"text": "…", "label": "…"} (some to train on, some to test)`);
  return records;
}

function parseRecord(raw: string, where: string, line: number): JsonlRecord {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw refuse(`${where}: is not JSON (${(err as Error).message}); each line must be one object such as {"text": "…", "label": "…"}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw refuse(`${where}: is ${Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`}, not an object; write {"text": "…", "label": "…"}`);
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !['text', 'text_pair', 'label'].includes(k));
  if (unknown.length) throw refuse(`${where}: has field ${unknown.map((k) => JSON.stringify(k)).join(', ')}, which a task does not read; the fields are "text", "text_pair" (optional) and "label"`);
  if (typeof o.text !== 'string' || !o.text.trim()) throw refuse(`${where}: field "text" is ${o.text === undefined ? 'missing' : typeof o.text === 'string' ? 'empty' : `a ${typeof o.text}`}; give the text to classify as a non-empty string`);
  if (o.text_pair !== undefined && (typeof o.text_pair !== 'string' || !o.text_pair.trim())) throw refuse(`${where}: field "text_pair" is ${typeof o.text_pair === 'string' ? 'empty' : `a ${typeof o.text_pair}`}; give the second text as a non-empty string, or leave the field out`);
  const label = o.label;
  const ok = (typeof label === 'string' && label.trim() !== '') || (typeof label === 'number' && Number.isInteger(label)) || typeof label === 'boolean';
  if (!ok) throw refuse(`${where}: field "label" is ${label === undefined ? 'missing' : JSON.stringify(label)}; give the class as a non-empty string or an integer`);
  return { text: o.text, ...(o.text_pair !== undefined ? { textPair: o.text_pair as string } : {}), label: String(label), line };
}

/** The labels in a stable order: integers numerically, anything else as text; 2 to MAX_LABELS of them. */
export function labelList(records: readonly JsonlRecord[], file: string): string[] {
  const set = [...new Set(records.map((r) => r.label))];
  const numeric = set.every((l) => /^-?\d+$/.test(l));
  const labels = numeric ? set.sort((a, b) => Number(a) - Number(b)) : set.sort();
  if (labels.length < 2) throw refuse(`${file}: every record has label ${JSON.stringify(labels[0])}; a classifier needs at least two classes`);
  if (labels.length > MAX_LABELS) throw refuse(`${file}: has ${labels.length} distinct labels, more than the ${MAX_LABELS} a classifier here takes; is "label" a free-text field?`);
  return labels;
}

export interface JsonlSplitOptions {
  arch: 'gpt' | 'bert';
  /** tokens an example may have, framing tokens included (a longer one is cut, a pair's longer text first) */
  contextTokens: number;
  testShare: number;
  seed: number;
  signal?: AbortSignal;
}

/** The task's examples tokenized and split by line, within each label (every label with two lines or more is on both sides). */
export async function jsonlSplit(file: string, tokenizer: Tokenizer, o: JsonlSplitOptions): Promise<ClassificationSplit> {
  const { records, labels } = await readJsonlTask(path.resolve(file), o.signal);
  const pacer = new Pacer(`preparing ${file}`, o.signal);
  const examples = [];
  for (const [unit, r] of records.entries()) {
    // a GPT has no [SEP]: a pair is read as one text, the second on a new line
    const pair = o.arch === 'gpt' && r.textPair !== undefined ? { a: tokenizer.encode(`${r.text}\n${r.textPair}`) } : { a: tokenizer.encode(r.text), ...(r.textPair !== undefined ? { b: tokenizer.encode(r.textPair) } : {}) };
    const room = o.contextTokens - framingTokens(o.arch, pair.b !== undefined);
    examples.push({ ...truncatePair(pair.a, pair.b, room), label: labels.indexOf(r.label), unit });
    if (pacer.due()) await pacer.turn();
  }
  const byLabel = new Map<number, number[]>();
  for (const e of examples) {
    const units = byLabel.get(e.label) ?? [];
    units.push(e.unit);
    byLabel.set(e.label, units);
  }
  const test = heldOutUnits(byLabel, o.testShare, new Rng(o.seed));
  if (!test.size) throw refuse(`${file}: no label has two lines, so nothing can be held out for testing; give each class at least two examples`);
  const split = { labels, train: examples.filter((e) => !test.has(e.unit)), test: examples.filter((e) => test.has(e.unit)) };
  return { ...split, balance: classBalance(split, 'line') };
}
