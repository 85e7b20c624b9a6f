import { configDiff, flatten } from './configDiff';
import { deepEqual, test } from './testing';

test('flatten gives dotted paths, indexed arrays and JSON leaves', () => {
  deepEqual([...flatten({ a: { b: 1, c: [true, { d: 'x' }] }, e: null })], [['a.b', '1'], ['a.c[0]', 'true'], ['a.c[1].d', 'x'], ['e', 'null']]);
});

test('configDiff keeps only the keys whose values differ, a missing key included', () => {
  const a = { model: { layers: 4, heads: 4 }, optimizer: { lr: 3e-4, betas: [0.9, 0.95] }, seed: 1 };
  const b = { model: { layers: 6, heads: 4 }, optimizer: { lr: 3e-4, betas: [0.9, 0.99] }, seed: 1, note: 'wide' };
  deepEqual(configDiff([a, b]), [
    { path: 'model.layers', values: ['4', '6'] },
    { path: 'optimizer.betas[1]', values: ['0.95', '0.99'] },
    { path: 'note', values: ['—', 'wide'] },
  ]);
  deepEqual(configDiff([a, a]), []);
});
