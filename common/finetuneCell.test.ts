import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION, parseExperiment } from './experiment';

const doc = (cell: object) => ({ format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'ft', cells: [{ id: 'ft', kind: 'finetune', ...cell }] });

test('a fine-tune cell parses with its defaults filled in and its runs listed', () => {
  const r = parseExperiment(doc({ baseRunId: '20261205-030853-dyrl', finetune: { data: { kind: 'brown-genre' } } }));
  assert.ok(r.ok, r.ok ? '' : r.error);
  const cell = r.value.cells[0];
  assert.equal(cell.kind, 'finetune');
  if (cell.kind !== 'finetune') return;
  assert.equal(cell.checkpoint, 'last');
  assert.equal(cell.finetune.data.kind, 'brown-genre');
  assert.equal(cell.finetune.init, 'pretrained');
  assert.deepEqual(cell.runs, []);
  assert.deepEqual(r.input.cells[0], doc({ baseRunId: '20261205-030853-dyrl', finetune: { data: { kind: 'brown-genre' } } }).cells[0], 'what the user wrote is saved as written');
});

test('bad fine-tune settings are refused naming the field', () => {
  const r = parseExperiment(doc({ finetune: { data: { kind: 'jsonl', file: '' }, method: 'half' } }));
  assert.ok(!r.ok);
  assert.match(r.error, /finetune\.data\.file/);
  assert.match(r.error, /finetune\.method/);
});
