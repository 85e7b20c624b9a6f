import { deepEqual, equal, ok, test } from '../dashboards/testing';
import { COMPRESS_METHODS, CompressConfig } from '../../common/compressConfig';
import { labelOf, settingsSections } from './settingsFields';

test('offers every method\'s leaf fields with their defaults as placeholders', () => {
  const int8 = settingsSections('int8');
  const fields = int8.flatMap((s) => s.fields);
  const mode = fields.find((f) => f.path.join('.') === 'activations.mode');
  equal(mode?.kind, 'choice');
  deepEqual(mode?.kind === 'choice' ? mode.options : [], ['dynamic', 'static']);
  equal(mode?.fallback, 'dynamic');
  equal(fields.find((f) => f.path.join('.') === 'activations.calibrationBatches')?.fallback, 8);
  equal(fields.find((f) => f.path.join('.') === 'keepFloat')?.kind, 'names');
  ok(!fields.some((f) => f.path[0] === 'method'), 'the method is the cell\'s choice, not a field');
});

test('walks nested objects into sections (distillation weights, the training loop)', () => {
  const distill = settingsSections('distill');
  const paths = distill.flatMap((s) => s.fields.map((f) => f.path.join('.')));
  for (const p of ['temperature', 'init', 'weights.soft', 'weights.cosine', 'student.nLayers', 'loop.steps', 'loop.batchSize']) ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
  equal(distill.flatMap((s) => s.fields).find((f) => f.path.join('.') === 'weights.soft')?.fallback, 5);
});

test('gives every method a form whose untouched defaults are a valid config', () => {
  for (const method of COMPRESS_METHODS) {
    ok(settingsSections(method).length > 0, method);
    equal(CompressConfig.safeParse({ method }).success, true, method);
  }
});

test('labels fields in words', () => {
  equal(labelOf('calibrationBatches'), 'calibration batches');
  equal(labelOf('nLayers'), 'n layers');
});
