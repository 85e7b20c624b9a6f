/** The preview's pure pieces: which documents are shown, and the document-length histogram's buckets. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lengthHistogram, spread } from './datasetPreview';

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
