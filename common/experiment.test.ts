import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION, cellOf, migrateBrownSourceV1, migrateSummaryOutV1, parseExperiment, previewsOfV1, runDirOf } from './experiment';

const minimal = {
  format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'tiny',
  cells: [
    { id: 'n', kind: 'notes', markdown: '# hi' },
    { id: 'd', kind: 'dataset', dataset: { source: { kind: 'corpus', corpus: 'brown' } }, tokenizer: { kind: 'wordpiece', vocabSize: 4000 } },
    { id: 'm', kind: 'model', model: { arch: 'bert', contextLength: 64, dModel: 64, nHeads: 2, nLayers: 2 } },
    { id: 'p', kind: 'pretrain', pretrain: { steps: 10, schedule: { warmupSteps: 2 } } },
  ],
};

describe('experiment files', () => {
  it('migrate version 1: a dataset cell\'s preview leaves the file (it is kept beside it), the rest stays as written', () => {
    const summary = { vocabSize: 65, configHash: 'h', at: '2026-11-25T10:00:00.000Z', stats: { source: '/home/someone/tiny.txt' } };
    const v1 = { ...minimal, version: 1, cells: minimal.cells.map((c) => (c.kind === 'dataset' ? { ...c, summary } : c)) };
    assert.deepEqual(previewsOfV1(v1), { d: summary });
    assert.ok(!JSON.stringify(migrateSummaryOutV1(v1)).includes('summary'));
    const r = parseExperiment(v1);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(r.migratedFrom, 1);
    // the input form is the file as written, migrated: no defaults added, no preview
    assert.deepEqual(r.input, { ...minimal, version: EXPERIMENT_VERSION });
  });

  it('derive a run\'s folder from its experiment file and run id, and refuse ids that leave NAME.runs', () => {
    assert.equal(runDirOf('/w/a/tiny.experiment.json', '20260101-000000-abcd'), '/w/a/tiny.runs/20260101-000000-abcd');
    assert.equal(runDirOf('C:\\w\\tiny.experiment.json', 'r1'), 'C:\\w\\tiny.runs\\r1');
    for (const bad of ['../x', '..', 'a/b', '', '.hidden']) assert.throws(() => runDirOf('/w/tiny.experiment.json', bad), /run id/);
  });

  it('parse with defaults filled and vocabSize left to the tokenizer', () => {
    const r = parseExperiment(minimal);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(cellOf(r.value, 'model')?.model.vocabSize, undefined);
    assert.equal(cellOf(r.value, 'pretrain')?.pretrain.optimizer.lr, 1e-3);
    assert.deepEqual(cellOf(r.value, 'pretrain')?.runs, []);
  });

  it('refuse other formats, newer versions and bad cells with the path and the fix', () => {
    const bad = (patch: object) => { const r = parseExperiment({ ...minimal, ...patch }); assert.equal(r.ok, false); return (r as { error: string }).error; };
    assert.match(bad({ format: 'something' }), /not a Transformer Workbench experiment/);
    assert.match(bad({ version: EXPERIMENT_VERSION + 1 }), /newer Transformer Workbench .* update the app/);
    assert.match(bad({ cells: [{ ...minimal.cells[2], model: { arch: 'bert', contextLength: 64, dModel: 64, nHeads: 3, nLayers: 2 } }] }), /^cells\.0\.model\.nHeads: dModel 64 is not divisible by nHeads 3/);
    assert.match(bad({ cells: [minimal.cells[0], minimal.cells[0]] }), /cell id 'n' is used twice/);
    assert.match(bad({ cells: [{ id: 'x', kind: 'teleport' }] }), /^cells\.0\.kind/);
    assert.equal(parseExperiment([1, 2]).ok, false);
    // a version 1 file whose cells are not a list is refused after migrating, not migrated into an empty notebook
    assert.match(bad({ version: 1, cells: 'three cells' }), /^cells: /);
  });

  it("migrate version 1's Brown source to the built-in corpus source, keeping its genres", () => {
    const v1 = {
      ...minimal, version: 1,
      cells: [
        minimal.cells[0],
        { id: 'd1', kind: 'dataset', dataset: { source: { kind: 'brown', genres: ['humor'] }, seed: 3 }, tokenizer: { kind: 'char' } },
        { id: 'd2', kind: 'dataset', dataset: { source: { kind: 'file', path: 'a.txt' } }, tokenizer: { kind: 'char' } },
        ...minimal.cells.slice(2),
      ],
    };
    const migrated = migrateBrownSourceV1(v1) as typeof v1;
    assert.deepEqual(migrated.cells[1], { id: 'd1', kind: 'dataset', dataset: { source: { kind: 'corpus', corpus: 'brown', as: 'documents', genres: ['humor'] }, seed: 3 }, tokenizer: { kind: 'char' } });
    assert.equal(migrated.cells[2], v1.cells[2], 'other sources are left as they are');
    assert.equal(v1.cells[1].dataset?.source.kind, 'brown', 'the input is not changed');
    const r = parseExperiment(v1);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(r.value.version, EXPERIMENT_VERSION);
    assert.equal(r.migratedFrom, 1);
    assert.deepEqual(cellOf(r.value, 'dataset')?.dataset.source, { kind: 'corpus', corpus: 'brown', as: 'documents', genres: ['humor'] });
    // a document whose cells are not a list is left to the schema, which says so
    assert.deepEqual(migrateBrownSourceV1({ cells: 'x' }), { cells: 'x' });
  });
});

