import { z } from 'zod';
import { DatasetConfig, DatasetSummary, corpusSourceFromBrown } from './datasetConfig';
import { EngineError } from './errors';
import { ModelConfigFields, checkModelConfig } from './modelConfig';
import { PretrainConfig } from './pretrainConfig';
import { TokenizerConfig } from './tokenizerConfig';
import { formatIssues } from './zodIssues';

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

const CellId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'a cell id is letters, digits, _ and -');
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

/** The dataset cell's last preview, minus its samples; `configHash` tells whether the config changed since. */
export const DatasetCellSummary = DatasetSummary.extend({ configHash: z.string().max(64), at: z.iso.datetime() }).strict();

export const DatasetCell = z.object({
  ...cellBase,
  kind: z.literal('dataset'),
  dataset: DatasetConfig,
  tokenizer: TokenizerConfig,
  summary: DatasetCellSummary.optional(),
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

export const Cell = z.discriminatedUnion('kind', [NotesCell, DatasetCell, ModelCell, PretrainCell]);
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

export type ParseResult<T> = { ok: true; value: T; migratedFrom?: number } | { ok: false; error: string };

type RawDoc = Record<string, unknown>;

/** Version 1 → 2, the dataset sources: the Brown corpus became one of the built-in corpora, `{ kind: 'corpus', corpus: 'brown' }`. */
export function migrateBrownSourceV1(doc: RawDoc): RawDoc {
  if (!Array.isArray(doc.cells)) return doc; // the schema says what is wrong with it
  const cells = doc.cells.map((cell: unknown) => {
    const c = cell as { kind?: unknown; dataset?: { source?: { kind?: unknown; genres?: string[] } } } | null;
    if (c?.kind !== 'dataset' || c.dataset?.source?.kind !== 'brown') return cell;
    return { ...c, dataset: { ...c.dataset, source: corpusSourceFromBrown(c.dataset.source) } };
  });
  return { ...doc, cells };
}

/**
 * Migrations from each older version to the next. Each takes the raw document of version N and returns
 * one of version N+1 (parseExperiment sets the version).
 */
const MIGRATIONS: Record<number, (doc: RawDoc) => RawDoc> = {
  1: (doc) => migrateBrownSourceV1(doc),
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
  return { ok: true, value: r.data, ...(version < EXPERIMENT_VERSION ? { migratedFrom: version } : {}) };
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
