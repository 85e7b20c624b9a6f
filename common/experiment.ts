import { z } from 'zod';
import { DatasetConfig, corpusSourceFromBrown } from './datasetConfig';
import { EngineError } from './errors';
import { ModelConfigFields, checkModelConfig } from './modelConfig';
import { PretrainConfig } from './pretrainConfig';
import { RunId } from './runFolder';
import { TokenizerConfig } from './tokenizerConfig';
import { formatIssues } from './zodIssues';
import { InspectCellFields } from './inspect';
import { CompressCellFields } from './compressCell';
import { FinetuneCellFields } from './finetuneCell';

/**
 * The experiment file, `NAME.experiment.json`: a versioned document holding an ordered list of cells —
 * notes, dataset, model, pretrain, and later attention, compress, evaluate, export — each with its config
 * and references to its results. Runs live beside it in `NAME.runs/RUN_ID/`. An older version of the
 * format is migrated on open; a newer one is refused with a message, never guessed at.
 */
export const EXPERIMENT_FORMAT = 'transformer-workbench.experiment';
export const EXPERIMENT_VERSION = 2;
/** Experiment files are named NAME.experiment.json; their runs live in NAME.runs/ beside them. */
export const EXPERIMENT_SUFFIX = '.experiment.json';
/** The runs folder's name for an experiment file's name: NAME.runs (a plain NAME.json gives NAME.runs too). */
export const runsFolderName = (fileName: string): string => `${fileName.replace(/\.experiment\.json$|\.json$/, '')}.runs`;

/** the path's folder part (with its separator) and its name; `/` and `\\` both separate (common/ has no node:path) */
function splitPath(p: string): { folder: string; name: string; sep: string } {
  const cut = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return { folder: p.slice(0, cut + 1), name: p.slice(cut + 1), sep: cut >= 0 ? p[cut] : '/' };
}

/** NAME.runs beside NAME.experiment.json, in the same folder. */
export function runsDirOf(experimentFile: string): string {
  const { folder, name } = splitPath(experimentFile);
  return `${folder}${runsFolderName(name)}`;
}

/** `entry` inside NAME.runs (a run's folder, the workbench's state file). */
export function inRunsDir(experimentFile: string, entry: string): string {
  return `${runsDirOf(experimentFile)}${splitPath(experimentFile).sep}${entry}`;
}

/**
 * A run's folder, NAME.runs/RUN_ID: a run is named by its experiment file and its run id everywhere (host,
 * protocol, UI), and its folder is derived here, once. The id is checked, so it cannot climb out of NAME.runs.
 */
export function runDirOf(experimentFile: string, runId: string): string {
  const id = RunId.safeParse(runId);
  if (!id.success) throw new Error(`run id ${JSON.stringify(runId).slice(0, 140)}: ${id.error.issues[0]?.message}`);
  return inRunsDir(experimentFile, id.data);
}

export const CellId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'a cell id is letters, digits, _ and -');
const cellBase = { id: CellId, title: z.string().max(200).optional(), collapsed: z.boolean().optional() };

/** What a finished or running pretraining left behind: enough to list it without opening its folder. */
export const RunRef = z.object({
  runId: z.string(),
  status: z.string(),
  step: z.number().int().min(0).optional(),
  finalTrainLoss: z.number().nullable().optional(),
  finalValLoss: z.number().nullable().optional(),
}).strict();

export const NotesCell = z.object({ ...cellBase, kind: z.literal('notes'), markdown: z.string().max(1_000_000).default('') }).strict();

/** Its last preview is kept beside the file, not in it (common/workbenchState.ts). */
export const DatasetCell = z.object({
  ...cellBase,
  kind: z.literal('dataset'),
  dataset: DatasetConfig,
  tokenizer: TokenizerConfig,
}).strict();

/** The model cell may leave vocabSize out: it then comes from the dataset cell's trained tokenizer. */
export const ModelCellConfig = ModelConfigFields.extend({ vocabSize: ModelConfigFields.shape.vocabSize.optional() }).superRefine(checkModelConfig);
export const ModelCell = z.object({ ...cellBase, kind: z.literal('model'), model: ModelCellConfig }).strict();

export const PretrainCell = z.object({
  ...cellBase,
  kind: z.literal('pretrain'),
  pretrain: PretrainConfig,
  runs: z.array(RunRef).default([]),
}).strict();

/** Attention maps of a text at a run's checkpoint (common/inspect.ts); the maps themselves stay in the run folder. */
export const InspectCell = z.object({ ...cellBase, kind: z.literal('inspect'), ...InspectCellFields.shape }).strict();

/** A variant of a run (quantized, distilled, pruned) and the comparison of its variants (common/compressCell.ts). */
export const CompressCell = z.object({ ...cellBase, kind: z.literal('compress'), ...CompressCellFields.shape }).strict();

/** A classifier fine-tuned from a run's checkpoint (common/finetuneCell.ts), and the runs it started. */
export const FinetuneCell = z.object({ ...cellBase, kind: z.literal('finetune'), ...FinetuneCellFields.shape, runs: z.array(RunRef).default([]) }).strict();

export const Cell = z.discriminatedUnion('kind', [NotesCell, DatasetCell, ModelCell, PretrainCell,
  InspectCell,
  CompressCell,
  FinetuneCell,
]);
export type Cell = z.output<typeof Cell>;
export type CellKind = Cell['kind'];

export const Experiment = z.object({
  format: z.literal(EXPERIMENT_FORMAT),
  version: z.literal(EXPERIMENT_VERSION),
  name: z.string().min(1).max(200),
  description: z.string().max(10_000).optional(),
  cells: z.array(Cell).max(500),
}).strict().superRefine((e, ctx) => {
  const seen = new Set<string>();
  e.cells.forEach((c, i) => {
    if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: ['cells', i, 'id'], message: `cell id '${c.id}' is used twice; give each cell its own id` });
    seen.add(c.id);
  });
});
export type ExperimentInput = z.input<typeof Experiment>;
export type Experiment = z.output<typeof Experiment>;

/**
 * `value`: the document with every default filled in, for code that uses it. `input`: the document as
 * written (migrated to this version, validated, nothing added), which is what is shown, edited and saved
 * again — a save writes what the user wrote plus run references, not every default spelled out, so a
 * file keeps its size and a default that changes in a later version is not frozen into old files.
 */
export type ParseResult<T> = { ok: true; value: T; input: ExperimentInput; migratedFrom?: number } | { ok: false; error: string };

type RawDoc = Record<string, unknown>;
const cellsOf = (doc: RawDoc): unknown[] => (Array.isArray(doc.cells) ? doc.cells : []);
const isObject = (v: unknown): v is RawDoc => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The document with each cell passed through `f`; one whose `cells` is not a list is left for the schema to name. */
const mapCells = (doc: RawDoc, f: (cell: unknown) => unknown): RawDoc => (Array.isArray(doc.cells) ? { ...doc, cells: doc.cells.map(f) } : doc);

/** Version 1 → 2, the dataset sources: the Brown corpus became one of the built-in corpora, `{ kind: 'corpus', corpus: 'brown' }`. */
export function migrateBrownSourceV1(doc: RawDoc): RawDoc {
  return mapCells(doc, (cell) => {
    const c = cell as { kind?: unknown; dataset?: { source?: { kind?: unknown; genres?: string[] } } } | null;
    if (c?.kind !== 'dataset' || c.dataset?.source?.kind !== 'brown') return cell;
    return { ...c, dataset: { ...c.dataset, source: corpusSourceFromBrown(c.dataset.source) } };
  });
}

/**
 * Version 1 kept a dataset cell's last preview (`summary`) in the file, with the absolute path of the data
 * on the machine that made it and a time: per-machine state, which now lives beside the file
 * (common/workbenchState.ts). The host carries it over there (previewsOfV1) when the sidecar has none.
 */
export function migrateSummaryOutV1(doc: RawDoc): RawDoc {
  return mapCells(doc, (c) => (isObject(c) && c.kind === 'dataset' && 'summary' in c ? (({ summary: _s, ...rest }) => rest)(c) : c));
}

/** The dataset cells' previews a version 1 document kept in itself, by cell id (unvalidated). */
export function previewsOfV1(doc: RawDoc): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of cellsOf(doc)) if (isObject(c) && c.kind === 'dataset' && typeof c.id === 'string' && c.summary !== undefined) out[c.id] = c.summary;
  return out;
}

/**
 * Migrations from each older version to the next. Each takes the raw document of version N and returns
 * one of version N+1 (parseExperiment sets `version`). Each change of a version is a function of its own,
 * so that changes made side by side compose.
 */
const MIGRATIONS: Record<number, (doc: RawDoc) => RawDoc> = {
  1: (doc) => migrateSummaryOutV1(migrateBrownSourceV1(doc)),
};

/** Reads an experiment document: checks the format, migrates older versions, validates every cell. */
export function parseExperiment(raw: unknown): ParseResult<Experiment> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: 'an experiment file holds one JSON object' };
  let doc = raw as Record<string, unknown>;
  if (doc.format !== EXPERIMENT_FORMAT) {
    return { ok: false, error: `format is ${JSON.stringify(doc.format)}, not '${EXPERIMENT_FORMAT}': this is not a Transformer Workbench experiment` };
  }
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) return { ok: false, error: `version ${JSON.stringify(version)} is not a format version (a whole number from 1)` };
  if (version > EXPERIMENT_VERSION) {
    return { ok: false, error: `the file is format version ${version}, written by a newer Transformer Workbench (this one reads up to ${EXPERIMENT_VERSION}); update the app to open it` };
  }
  for (let v = version; v < EXPERIMENT_VERSION; v++) doc = { ...MIGRATIONS[v](doc), version: v + 1 };
  const r = Experiment.safeParse(doc);
  if (!r.success) {
    return { ok: false, error: formatIssues(r.error, { separator: '\n' }) };
  }
  // a valid document is its own input form: the schema accepted every key it has
  return { ok: true, value: r.data, input: doc as ExperimentInput, ...(version < EXPERIMENT_VERSION ? { migratedFrom: version } : {}) };
}

/** The first cell of a kind, or undefined. */
export function cellOf<K extends CellKind>(e: Experiment, kind: K): Extract<Cell, { kind: K }> | undefined {
  return e.cells.find((c): c is Extract<Cell, { kind: K }> => c.kind === kind);
}

type CellLike = { id: string; kind: string };

/**
 * The cells a pretrain cell trains from: the nearest dataset cell and the nearest model cell above it, so
 * that cells below it, or above a nearer one, do not count. The one rule of the command line, the host and
 * the notebook: one file trains one thing wherever it is run. Works on saved and on edited (unparsed) cells.
 */
export function pretrainInputs<C extends CellLike>(cells: readonly C[], pretrainCellId: string): { dataset?: Extract<C, { kind: 'dataset' }>; model?: Extract<C, { kind: 'model' }> } {
  const at = cells.findIndex((c) => c.id === pretrainCellId);
  const above = at >= 0 ? cells.slice(0, at).reverse() : [];
  return {
    dataset: above.find((c) => c.kind === 'dataset') as Extract<C, { kind: 'dataset' }> | undefined,
    model: above.find((c) => c.kind === 'model') as Extract<C, { kind: 'model' }> | undefined,
  };
}

/** A pretrain cell of a saved experiment with the cells it trains from. */
export interface PretrainCells { dataset: DatasetCell; model: ModelCell; pretrain: PretrainCell }
type DatasetCell = z.output<typeof DatasetCell>;
type ModelCell = z.output<typeof ModelCell>;
type PretrainCell = z.output<typeof PretrainCell>;

/**
 * The pretrain cell `cellId` of `e` (by default its first pretrain cell) and its inputs by pretrainInputs'
 * rule; INVALID_CONFIG naming `file`, the cell and the fix when one is missing.
 */
export function pretrainCellsOf(e: Experiment, cellId: string | undefined, file: string): PretrainCells {
  const pretrain = cellId === undefined ? cellOf(e, 'pretrain') : e.cells.find((c) => c.id === cellId);
  if (!pretrain) {
    throw new EngineError('INVALID_CONFIG', cellId === undefined
      ? `${file}: has no pretrain cell; a run needs a dataset, a model and a pretrain cell below them`
      : `${file}: has no cell '${cellId}' (save the experiment before running it)`, ['cellId']);
  }
  if (pretrain.kind !== 'pretrain') throw new EngineError('INVALID_CONFIG', `${file}: cell '${pretrain.id}' is a ${pretrain.kind} cell, not a pretrain cell`, ['cellId']);
  const { dataset, model } = pretrainInputs(e.cells, pretrain.id);
  const missing = [!dataset && 'dataset', !model && 'model'].filter(Boolean);
  if (missing.length) throw new EngineError('INVALID_CONFIG', `${file}: pretrain cell '${pretrain.id}' has no ${missing.join(' or ')} cell above it; add one above it`, ['cellId']);
  return { dataset: dataset!, model: model!, pretrain };
}
