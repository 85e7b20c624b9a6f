import assert from 'node:assert/strict';
import { test } from 'node:test';
import { datasetPathForCell } from './datasetPath';

const exp = '/home/ada/work/exp/brown.experiment.json';

test('an absolute path inside the experiment folder tree is stored relative to it', () => {
  assert.equal(datasetPathForCell('/home/ada/work/exp/data/input.txt', exp), 'data/input.txt');
  assert.equal(datasetPathForCell('/home/ada/work/exp/input.txt', exp), 'input.txt');
  assert.equal(datasetPathForCell('/home/ada/work/exp//corpus/./a/../b/', exp), 'corpus/b');
  assert.equal(datasetPathForCell('/home/ada/work/exp', exp), '.');
});

test('paths elsewhere, relative paths and paths of an unsaved experiment are kept as typed', () => {
  assert.equal(datasetPathForCell('/home/ada/work/other/input.txt', exp), '/home/ada/work/other/input.txt');
  assert.equal(datasetPathForCell('/home/ada/work/exp-old/input.txt', exp), '/home/ada/work/exp-old/input.txt', 'a sibling whose name starts alike is not inside');
  assert.equal(datasetPathForCell('/home/ada/work/exp/../secret.txt', exp), '/home/ada/work/exp/../secret.txt');
  assert.equal(datasetPathForCell('data/input.txt', exp), 'data/input.txt');
  assert.equal(datasetPathForCell('../shared/data/tinyshakespeare.txt', exp), '../shared/data/tinyshakespeare.txt');
  assert.equal(datasetPathForCell('/home/ada/work/exp/data/input.txt', null), '/home/ada/work/exp/data/input.txt');
});

test('Windows paths: either separator, the drive without case', () => {
  const win = 'C:\\Users\\ada\\exp\\brown.experiment.json';
  assert.equal(datasetPathForCell('c:\\Users\\ada\\exp\\data\\input.txt', win), 'data/input.txt');
  assert.equal(datasetPathForCell('C:/Users/ada/exp/data/input.txt', win), 'data/input.txt');
  assert.equal(datasetPathForCell('D:\\Users\\ada\\exp\\data\\input.txt', win), 'D:\\Users\\ada\\exp\\data\\input.txt');
});

test('an experiment at the root of a file system', () => {
  assert.equal(datasetPathForCell('/data/input.txt', '/e.experiment.json'), 'data/input.txt');
});
