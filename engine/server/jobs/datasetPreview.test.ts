/** The preview's pure pieces (which documents are shown, the length histogram's buckets), and the job on a real file. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JobContext } from '../job';
import { datasetPreview, lengthHistogram, spread } from './datasetPreview';

describe('dataset preview helpers', () => {
  it('spreads the samples over the whole dataset, first and last included', () => {
    assert.deepEqual(spread(3, 5), [0, 1, 2]);
    assert.deepEqual(spread(100, 1), [0]);
    assert.deepEqual(spread(101, 5), [0, 25, 50, 75, 100]);
    assert.deepEqual(spread(0, 5), []);
  });

  it('buckets document lengths by doubling bounds from the shortest to the longest, every document counted once', () => {
    const h = lengthHistogram([5, 8, 9, 300, 64, 65]);
    assert.deepEqual(h.bounds, [4, 8, 16, 32, 64, 128, 256, 512]);
    assert.deepEqual(h.counts, [0, 2, 1, 0, 1, 1, 0, 1]);
    assert.deepEqual(lengthHistogram([]), { bounds: [], counts: [] });
    assert.deepEqual(lengthHistogram([1]), { bounds: [1], counts: [1] });
    assert.deepEqual(lengthHistogram([0, 0]), { bounds: [1], counts: [2] });
  });
});

describe('dataset preview job', () => {
  it('previews a text whose validation split holds a character the training split lacks, as a run trains on it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wb-preview-'));
    try {
      fs.writeFileSync(path.join(dir, 'cafe.txt'), `${'the cat sat on the mat. '.repeat(40)}\n\nand then a café`);
      const ctx = {
        jobId: 'p', signal: new AbortController().signal, backend: null,
        progress: () => undefined, log: () => undefined, runEvents: () => undefined, onControl: () => undefined, checkpoint: async () => undefined,
      } as unknown as JobContext;
      const spec = { kind: 'dataset.preview', dataset: { source: { kind: 'file', path: 'cafe.txt', unit: 'file' }, split: 'tail', cleaning: { minChars: 0 } }, tokenizer: { kind: 'char' }, baseDir: dir, samples: 2 };
      const preview = await datasetPreview.run(spec as never, ctx) as { vocabSize: number; samples: { tokens: string[] }[] };
      assert.ok(preview.vocabSize > 10);
      assert.ok(preview.samples.length > 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
