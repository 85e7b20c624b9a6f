import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION, parseExperiment } from './experiment';
import { InspectCellFields, downsampleMap, float32FromBytes, fromBase64, quantizeThumb, toBase64 } from './inspect';

describe('inspect payload helpers', () => {
  it('downsamples a map to block means in which every position counts once', () => {
    const T = 5;
    const map = Float32Array.from({ length: T * T }, (_, i) => i);
    const s = downsampleMap(map, T, 2);
    // blocks: rows 0–1 / 2–4, columns 0–1 / 2–4
    assert.deepEqual(Array.from(s), [(0 + 1 + 5 + 6) / 4, (2 + 3 + 4 + 7 + 8 + 9) / 6, (10 + 11 + 15 + 16 + 20 + 21) / 6, (12 + 13 + 14 + 17 + 18 + 19 + 22 + 23 + 24) / 9]);
    assert.deepEqual(downsampleMap(map, T, T), map, 'S = T is the map itself');
    const rowSums = downsampleMap(Float32Array.from({ length: 64 * 64 }, () => 1 / 64), 64, 32);
    assert.ok(rowSums.every((v) => Math.abs(v - 1 / 64) < 1e-9), 'a uniform map stays uniform');
  });

  it('quantizes a thumbnail to its own maximum; an all-zero one stays zero', () => {
    assert.deepEqual(quantizeThumb(Float32Array.from([0, 0.25, 0.5])), { bytes: Uint8Array.from([0, 128, 255]), max: 0.5 });
    assert.deepEqual(quantizeThumb(new Float32Array(3)), { bytes: new Uint8Array(3), max: 0 });
  });

  it('base64 round-trips bytes of every length and agrees with Node\'s; float32 maps come back exactly', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255, 1000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
      const text = toBase64(bytes);
      assert.equal(text, Buffer.from(bytes).toString('base64'));
      assert.deepEqual(fromBase64(text), bytes);
    }
    const map = Float32Array.from([0.1, 1 / 3, 0, 1e-30]);
    assert.deepEqual(float32FromBytes(fromBase64(toBase64(new Uint8Array(map.buffer)))), map);
    assert.throws(() => fromBase64('ab$d'), /character "\$" at 2 is not base64/);
    assert.throws(() => float32FromBytes(new Uint8Array(5)), /multiple of 4 bytes, not 5/);
  });

  it('an inspect cell needs nothing but defaults; a bad view or statistic is named', () => {
    const c = InspectCellFields.parse({});
    assert.equal(c.checkpoint, 'last');
    assert.equal(c.view, 'model');
    assert.deepEqual(c.queries, []);
    assert.match(InspectCellFields.safeParse({ view: 'grid' }).error!.issues[0].path.join('.'), /view/);
    assert.equal(InspectCellFields.safeParse({ statistic: 'loss' }).success, false);
    assert.equal(InspectCellFields.safeParse({ checkpoint: 'step-12' }).success, true);
    assert.equal(InspectCellFields.safeParse({ checkpoint: 'latest' }).success, false);
  });

  it('an experiment file holds inspect cells, written as the user left them; a typo in one is named', () => {
    const doc = { format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'x', cells: [{ id: 'look', kind: 'inspect', runId: 'r1', text: 'the king', view: 'lines', queries: [1, 2] }] };
    const r = parseExperiment(doc);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.deepEqual(r.input, doc, 'saved again as written, no defaults spelled out');
    const cell = r.value.cells[0];
    assert.ok(cell.kind === 'inspect' && cell.checkpoint === 'last' && cell.statistic === 'entropy');
    const bad = parseExperiment({ ...doc, cells: [{ id: 'look', kind: 'inspect', layr: 2 }] });
    assert.ok(!bad.ok && /cells\.0.*layr/s.test(bad.error), bad.ok ? '' : bad.error);
  });
});
