/**
 * The shapes that flow through engine/data: raw documents from a source, then cleaned documents cut into
 * sentences, then token arrays. Kept apart so sources, cleaning and the cache need not import each other.
 */

/** A document as a source yields it, before cleaning. */
export interface RawDocument {
  /** unique within the dataset and stable across runs (the split and the dedupe reports name documents by it) */
  id: string;
  /** the file it came from, for messages */
  file: string;
  text: string;
  /** e.g. the Brown genre or a JSONL label field; kept for fine-tuning */
  label?: string;
  /**
   * Offsets in `text` where sentences start, when the source knows them (the Brown corpus has one
   * sentence per line). Valid only while the text is unchanged: a cleaning step that edits the text drops
   * them and the sentence splitter takes over.
   */
  sentenceStarts?: number[];
}

/** A cleaned document cut into sentences. The sentences concatenate back to the text exactly: each carries the white space before it. */
export interface TextDocument {
  id: string;
  label?: string;
  sentences: string[];
}

/**
 * What the dataset needs of a tokenizer (engine/tokenizers implements it). `id` must change whenever
 * encode's output could change (vocabulary, normalisation, version): the cache is keyed by it.
 * encode must not add special tokens: the trainer places [CLS]/[SEP]/EOS itself.
 */
export interface DatasetTokenizer {
  readonly id: string;
  encode(text: string): number[];
}

/**
 * One split, tokenized. Flat arrays with offset tables, so it is cheap to cache, to send to a worker and
 * to slice without copying:
 *   sentence s of the split is tokens[sentenceOffsets[s] .. sentenceOffsets[s+1])
 *   document d holds sentences docSentenceOffsets[d] .. docSentenceOffsets[d+1]
 * Documents are in split order; tokens of a document are its sentences in order.
 */
export interface TokenizedSplit {
  tokens: Int32Array;
  /** length = sentences + 1 */
  sentenceOffsets: Int32Array;
  /** length = documents + 1 */
  docSentenceOffsets: Int32Array;
  docIds: string[];
  /** per document; null where the source has no label */
  labels: (string | null)[];
}

/**
 * A token stream as batching reads it: a length and copies of stretches. An Int32Array is one (the in-memory path);
 * a TokenFile (./tokenFile.ts) is one that reads the stretch from disk, so a batch costs the same either way.
 */
export interface TokenWindow {
  readonly length: number;
  subarray(begin: number, end: number): Int32Array;
}
