/**
 * Cleaning, in the order the seed lists it: strip HTML, normalise white space, length filters, exact
 * duplicates, near-duplicates. Each step is a function of the documents and its config and returns the
 * documents it keeps with a report of what it removed, so the dataset cell can show exactly what happened.
 * Filters run before dedupe so that a too-short copy does not make a kept document look like a duplicate.
 */
import { createHash } from 'node:crypto';
import { EXAMPLE_LIMIT, type CleaningConfig, type CleaningReport, type CleaningStepName, type CleaningStepReport } from '../../common/datasetConfig';
import { NearDuplicateIndex } from './minhash';
import { runToEnd, type Steps } from '../util/cooperative';
import type { RawDocument } from './types';

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ensp: ' ', emsp: ' ', thinsp: ' ',
  mdash: '—', ndash: '–', hellip: '…', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', sbquo: '‚', bdquo: '„',
  laquo: '«', raquo: '»', bull: '•', middot: '·', copy: '©', reg: '®', trade: '™', deg: '°', plusmn: '±',
  times: '×', divide: '÷', frac12: '½', frac14: '¼', frac34: '¾', sect: '§', para: '¶', euro: '€', pound: '£',
  yen: '¥', cent: '¢', iexcl: '¡', iquest: '¿', shy: '', zwj: '', zwnj: '',
  aacute: 'á', eacute: 'é', iacute: 'í', oacute: 'ó', uacute: 'ú', Aacute: 'Á', Eacute: 'É', Iacute: 'Í', Oacute: 'Ó', Uacute: 'Ú',
  agrave: 'à', egrave: 'è', igrave: 'ì', ograve: 'ò', ugrave: 'ù', acirc: 'â', ecirc: 'ê', icirc: 'î', ocirc: 'ô', ucirc: 'û',
  auml: 'ä', euml: 'ë', iuml: 'ï', ouml: 'ö', uuml: 'ü', Auml: 'Ä', Ouml: 'Ö', Uuml: 'Ü', szlig: 'ß', ntilde: 'ñ', Ntilde: 'Ñ',
  ccedil: 'ç', Ccedil: 'Ç', aring: 'å', Aring: 'Å', aelig: 'æ', oslash: 'ø', atilde: 'ã', otilde: 'õ',
};

const BLOCK_TAG = /<\/?(?:p|div|br|li|ul|ol|dl|dt|dd|h[1-6]|tr|td|th|table|section|article|header|footer|nav|aside|blockquote|pre|hr|title|body|html|head)\b[^<>]*>/gi;
const ANY_TAG = /<\/?[a-zA-Z][a-zA-Z0-9:-]*(?:\s[^<>]*)?\/?>/g;
const ENTITY = /&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});/g;

function decodeEntity(_m: string, body: string): string {
  if (body[0] === '#') {
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '';
  }
  // An unknown named entity is markup residue, not text: drop it rather than teach the model "&foo;".
  return NAMED_ENTITIES[body] ?? NAMED_ENTITIES[body.toLowerCase()] ?? '';
}

/** Removes comments, scripts, styles and tags (block tags become line breaks) and decodes entities. */
export function stripHtml(text: string): string {
  if (!/[<&]/.test(text)) return text;
  return text
    .replace(/<!--[\s\S]*?(?:-->|$)/g, '')
    .replace(/<(script|style|noscript|template)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi, '')
    .replace(/<!DOCTYPE[^>]*>|<!\[CDATA\[|\]\]>/gi, '')
    .replace(BLOCK_TAG, '\n')
    .replace(ANY_TAG, '')
    .replace(ENTITY, decodeEntity);
}

/** One space between words, no space at line ends, at most one blank line in a row, no zero-width or control characters. */
export function normalizeWhitespace(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u200b-\u200d\u2060\ufeff\u0000-\u0008\u000b\u000e-\u001f\u007f]/g, '')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function report(step: CleaningStepName, enabled: boolean, documentsIn: number, detail: string, extra: Partial<CleaningStepReport> = {}): CleaningStepReport {
  return { step, enabled, documentsIn, documentsRemoved: 0, documentsChanged: 0, charsRemoved: 0, examples: [], detail, ...extra };
}

type StepResult = { docs: RawDocument[]; report: CleaningStepReport };

/** The documents `keep` keeps (or replaces), in order, yielding after each (../util/cooperative.ts). */
function* mapDocs(docs: RawDocument[], keep: (d: RawDocument, i: number) => RawDocument | null): Steps<RawDocument[]> {
  const out: RawDocument[] = [];
  for (let i = 0; i < docs.length; i++) {
    const d = keep(docs[i], i);
    if (d) out.push(d);
    yield;
  }
  return out;
}

/** An editing step: applies `edit` to each text, keeps every document, counts what changed. */
function* editStep(step: CleaningStepName, enabled: boolean, docs: RawDocument[], edit: (t: string) => string, what: string): Steps<StepResult> {
  if (!enabled) return { docs, report: report(step, false, docs.length, 'off') };
  let changed = 0, removed = 0;
  const examples: string[] = [];
  const out = yield* mapDocs(docs, (d) => {
    const text = edit(d.text);
    if (text === d.text) return d;
    changed++;
    removed += Math.max(0, d.text.length - text.length);
    if (examples.length < EXAMPLE_LIMIT) examples.push(d.id);
    const { sentenceStarts: _dropped, ...rest } = d; // offsets into the old text are meaningless now
    return { ...rest, text };
  });
  return {
    docs: out,
    report: report(step, true, docs.length, `${what} in ${changed} document${changed === 1 ? '' : 's'} (${removed} characters removed)`, { documentsChanged: changed, charsRemoved: removed, examples }),
  };
}

function* lengthStep(docs: RawDocument[], minChars: number, maxChars: number | undefined): Steps<StepResult> {
  let short = 0, long = 0, chars = 0;
  const examples: string[] = [];
  const out = yield* mapDocs(docs, (d) => {
    const n = d.text.trim() ? d.text.length : 0; // a document of only white space is empty
    const ok = n >= Math.max(1, minChars) && (maxChars === undefined || n <= maxChars);
    if (!ok) {
      if (n > (maxChars ?? Infinity)) long++; else short++;
      chars += d.text.length;
      if (examples.length < EXAMPLE_LIMIT) examples.push(d.id);
    }
    return ok ? d : null;
  });
  const parts = [`dropped ${short} document${short === 1 ? '' : 's'} shorter than ${Math.max(1, minChars)} characters`];
  if (maxChars !== undefined) parts.push(`${long} longer than ${maxChars}`);
  return { docs: out, report: report('length', true, docs.length, parts.join(' and '), { documentsRemoved: short + long, charsRemoved: chars, examples }) };
}

function dedupeReport(step: CleaningStepName, docsIn: number, removed: RawDocument[], pairs: [string, string][], what: string): CleaningStepReport {
  return report(step, true, docsIn, `dropped ${removed.length} ${what}`, {
    documentsRemoved: removed.length,
    charsRemoved: removed.reduce((s, d) => s + d.text.length, 0),
    examples: removed.slice(0, EXAMPLE_LIMIT).map((d) => d.id),
    duplicateOf: pairs.slice(0, EXAMPLE_LIMIT),
  });
}

function* dedupeExactStep(docs: RawDocument[], enabled: boolean): Steps<StepResult> {
  if (!enabled) return { docs, report: report('dedupeExact', false, docs.length, 'off') };
  const first = new Map<string, string>();
  const removed: RawDocument[] = [];
  const pairs: [string, string][] = [];
  const out = yield* mapDocs(docs, (d) => {
    const key = createHash('sha1').update(d.text).digest('base64');
    const of = first.get(key);
    if (of === undefined) { first.set(key, d.id); return d; }
    removed.push(d);
    pairs.push([d.id, of]);
    return null;
  });
  return { docs: out, report: dedupeReport('dedupeExact', docs.length, removed, pairs, 'exact duplicates') };
}

function* dedupeNearStep(docs: RawDocument[], cfg: CleaningConfig['dedupeNear']): Steps<StepResult> {
  if (!cfg.enabled) return { docs, report: report('dedupeNear', false, docs.length, 'off') };
  const index = new NearDuplicateIndex(cfg);
  const removed: RawDocument[] = [];
  const pairs: [string, string][] = [];
  const out = yield* mapDocs(docs, (d) => {
    const dup = index.add(d.text);
    if (!dup) return d;
    removed.push(d);
    pairs.push([d.id, docs[dup.of].id]);
    return null;
  });
  return {
    docs: out,
    report: dedupeReport('dedupeNear', docs.length, removed, pairs, `near-duplicates (Jaccard ≥ ${cfg.threshold} over ${cfg.shingle}-word shingles)`),
  };
}

/** Runs every step in order. Documents keep their order; ids are never changed. */
export function cleanDocuments(input: RawDocument[], cfg: CleaningConfig): { docs: RawDocument[]; report: CleaningReport } {
  return runToEnd(cleanDocumentsSteps(input, cfg));
}

/** cleanDocuments as steps, yielding after each document of each step: what the engine runs cooperatively. */
export function* cleanDocumentsSteps(input: RawDocument[], cfg: CleaningConfig): Steps<{ docs: RawDocument[]; report: CleaningReport }> {
  const steps: CleaningStepReport[] = [];
  let docs = input;
  const run = (r: StepResult) => { docs = r.docs; steps.push(r.report); };
  run(yield* editStep('stripHtml', cfg.stripHtml, docs, stripHtml, 'stripped HTML'));
  run(yield* editStep('normalizeWhitespace', cfg.normalizeWhitespace, docs, normalizeWhitespace, 'normalised white space'));
  run(yield* lengthStep(docs, cfg.minChars, cfg.maxChars));
  run(yield* dedupeExactStep(docs, cfg.dedupeExact));
  run(yield* dedupeNearStep(docs, cfg.dedupeNear));
  return { docs, report: { documentsIn: input.length, documentsOut: docs.length, steps } };
}
