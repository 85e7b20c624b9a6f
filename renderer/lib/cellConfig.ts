import { z } from 'zod';
import { DatasetConfig } from '../../common/datasetConfig';
import { type Cell, type ExperimentInput, ModelCellConfig, pretrainInputs } from '../../common/experiment';
import { InspectCellFields } from '../../common/inspect';
import { CompressCellFields } from '../../common/compressCell';
import { FinetuneCellFields } from '../../common/finetuneCell';
import { PretrainConfig, pretrainModelIssues as modelIssues } from '../../common/pretrainConfig';
import { pretrainSpecOf, runConfigOf } from '../../common/runConfig';
import { TokenizerConfig } from '../../common/tokenizerConfig';
import { hashValue } from './hash';

/**
 * What each kind of cell lets a user edit, as one zod schema per kind: the form, the JSON editor (through
 * a JSON Schema generated from the same schema) and the run guard all read these, so a field is described
 * and validated in one place (common/). Notes cells edit markdown, not JSON.
 */
export type CellInput = ExperimentInput['cells'][number];
export type CellKind = Cell['kind'];
export type ConfigKind = Exclude<CellKind, 'notes'>;

export const CONFIG_SCHEMAS = {
  dataset: z.object({ dataset: DatasetConfig, tokenizer: TokenizerConfig }).strict(),
  model: ModelCellConfig,
  pretrain: PretrainConfig,
  inspect: InspectCellFields.strict(),
  compress: CompressCellFields.strict(),
  finetune: FinetuneCellFields.strict(),
} as const;

export type ConfigOf<K extends ConfigKind> = z.input<(typeof CONFIG_SCHEMAS)[K]>;

/** The editable config of a cell, as a plain JSON value. */
export function configOf(cell: CellInput): unknown {
  switch (cell.kind) {
    case 'dataset': return { dataset: cell.dataset, tokenizer: cell.tokenizer };
    case 'model': return cell.model;
    case 'pretrain': return cell.pretrain;
    case 'notes': return cell.markdown;
    case 'compress':
    case 'inspect': { const { id: _i, kind: _k, title: _t, collapsed: _c, ...fields } = cell; return fields; }
    case 'finetune': return { baseRunId: cell.baseRunId, checkpoint: cell.checkpoint, finetune: cell.finetune };
  }
}

/** The cell with its config replaced; anything that is not an object is kept as it is and reported by validation. */
export function withConfig(cell: CellInput, config: unknown): CellInput {
  const o = (config ?? {}) as Record<string, unknown>;
  switch (cell.kind) {
    case 'dataset': return { ...cell, dataset: o.dataset as never, tokenizer: o.tokenizer as never };
    case 'model': return { ...cell, model: o as never };
    case 'pretrain': return { ...cell, pretrain: o as never };
    case 'notes': return { ...cell, markdown: String(config ?? '') };
    case 'compress':
    case 'inspect': return { id: cell.id, kind: cell.kind, ...(cell.title !== undefined ? { title: cell.title } : {}), ...(cell.collapsed !== undefined ? { collapsed: cell.collapsed } : {}), ...(o as object) };
    case 'finetune': return { ...cell, baseRunId: o.baseRunId as never, checkpoint: o.checkpoint as never, finetune: o.finetune as never };
  }
}

export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}

/** Issues of a cell's config by its schema; empty when it is valid. */
export function validateCell(cell: CellInput): ConfigIssue[] {
  if (cell.kind === 'notes') return [];
  const r = CONFIG_SCHEMAS[cell.kind].safeParse(configOf(cell));
  if (r.success) return [];
  return r.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
}

/** The config with every default filled in, or null when it is invalid. */
export function parsedConfig<K extends ConfigKind>(kind: K, config: unknown): z.output<(typeof CONFIG_SCHEMAS)[K]> | null {
  const r = CONFIG_SCHEMAS[kind].safeParse(config);
  return r.success ? (r.data as z.output<(typeof CONFIG_SCHEMAS)[K]>) : null;
}

const jsonSchemas = new Map<ConfigKind, Record<string, unknown>>();

/** JSON Schema of a kind's config (zod 4's toJSONSchema; the .describe() texts become hover docs). */
export function jsonSchemaOf(kind: ConfigKind): Record<string, unknown> {
  let s = jsonSchemas.get(kind);
  if (!s) {
    s = z.toJSONSchema(CONFIG_SCHEMAS[kind], { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;
    jsonSchemas.set(kind, s);
  }
  return s;
}

/** A problem of a pretrain cell against its model: `message` for its field, `engineMessage` as the engine words it. */
export interface PretrainModelIssue extends ConfigIssue {
  engineMessage: string;
}

/**
 * What the trainer refuses about a pretrain cell given the model it trains (common/pretrainConfig.ts
 * pretrainModelIssues, which the engine checks too), so that the run guard stops it before a run starts,
 * in the engine's own words. Empty when either config is invalid (their own issues say why).
 */
export function pretrainModelIssues(pretrain: unknown, model: unknown): PretrainModelIssue[] {
  const p = parsedConfig('pretrain', pretrain);
  const m = parsedConfig('model', model);
  if (!p || !m) return [];
  return modelIssues(p, m).map((i) => ({ path: [i.field], message: i.message, engineMessage: i.full }));
}

/** A cell's issues in the document: its own config's, and for a pretrain cell those against the model it trains. */
export function cellIssues(cells: readonly CellInput[], cell: CellInput): ConfigIssue[] {
  const own = validateCell(cell);
  if (cell.kind !== 'pretrain') return own;
  const { model } = pretrainInputs(cells, cell.id);
  return model ? [...own, ...pretrainModelIssues(cell.pretrain, model.model)] : own;
}

/**
 * A hash of everything a pretraining run is started from — dataset, tokenizer, model and pretrain configs
 * with defaults filled in — so that a run whose hash differs from the cell's current one is shown stale.
 * Null when a config is invalid (nothing to compare).
 */
export function runConfigHash(spec: { dataset?: unknown; tokenizer?: unknown; model?: unknown; pretrain?: unknown }): string | null {
  const d = parsedConfig('dataset', { dataset: spec.dataset, tokenizer: spec.tokenizer });
  const m = parsedConfig('model', spec.model);
  const p = parsedConfig('pretrain', spec.pretrain);
  if (!d || !m || !p) return null;
  // vocabSize left out of the model cell comes from the tokenizer: the run's snapshot may hold either
  const { vocabSize: _v, ...model } = m as Record<string, unknown>;
  return hashValue({ dataset: d.dataset, tokenizer: d.tokenizer, model, pretrain: p });
}

/** The current configs' hash for a pretrain cell of the document. */
export function pretrainCellHash(cells: readonly CellInput[], cellId: string): string | null {
  const cell = cells.find((c) => c.id === cellId);
  if (!cell || cell.kind !== 'pretrain') return null;
  const { dataset, model } = pretrainInputs(cells, cellId);
  return runConfigHash({ dataset: dataset?.dataset, tokenizer: dataset?.tokenizer, model: model?.model, pretrain: cell.pretrain });
}

/** The hash of what a run folder's run.json says it was started from; null when its config cannot be read. */
export function runJsonHash(run: { config: unknown }): string | null {
  const spec = pretrainSpecOf(runConfigOf(run));
  return spec ? runConfigHash(spec) : null;
}

let idCounter = 0;
/** A fresh cell id not used in the document. */
export function newCellId(kind: CellKind, cells: readonly CellInput[]): string {
  const used = new Set(cells.map((c) => c.id));
  let id = kind as string;
  while (used.has(id)) id = `${kind}-${++idCounter}`;
  return id;
}

/** A new cell of a kind, with a config that validates. */
export function newCell(kind: CellKind, cells: readonly CellInput[]): CellInput {
  const id = newCellId(kind, cells);
  switch (kind) {
    case 'notes': return { id, kind, markdown: '## Notes\n\nWhat this experiment asks, and what you saw.' };
    case 'dataset': return { id, kind, dataset: { source: { kind: 'corpus', corpus: 'brown' } }, tokenizer: { kind: 'bpe', vocabSize: 8000 } };
    case 'model': return { id, kind, model: { arch: 'gpt', contextLength: 128, dModel: 128, nHeads: 4, nLayers: 4 } };
    case 'pretrain': return { id, kind, pretrain: { steps: 2000, batchSize: 12 }, runs: [] };
    case 'inspect': {
      // bound at first to the newest run the document knows, if any
      const runId = cells.flatMap((c) => (c.kind === 'pretrain' ? (c.runs ?? []).map((r) => r.runId) : [])).at(-1);
      return { id, kind, ...(runId ? { runId } : {}), checkpoint: 'last', text: 'The quick brown fox jumps over the lazy dog.' };
    }
    case 'compress': {
      const baseRunId = cells.flatMap((c) => (c.kind === 'pretrain' ? (c.runs ?? []).map((r) => r.runId) : [])).at(-1);
      return { id, kind, ...(baseRunId ? { baseRunId } : {}), checkpoint: 'last', method: 'int8' };
    }
    case 'finetune': {
      const baseRunId = cells.flatMap((c) => (c.kind === 'pretrain' ? (c.runs ?? []).map((r) => r.runId) : [])).at(-1);
      return { id, kind, ...(baseRunId ? { baseRunId } : {}), checkpoint: 'last', finetune: { data: { kind: 'brown-genre' }, method: 'lora', loop: { steps: 300 } }, runs: [] };
    }
  }
}

export const KIND_LABEL: Record<CellKind, string> = { notes: 'Notes', dataset: 'Dataset', model: 'Model', pretrain: 'Pretrain', inspect: 'Inspect', compress: 'Compress', finetune: 'Fine-tune' };
