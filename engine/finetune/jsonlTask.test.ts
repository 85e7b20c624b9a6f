import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { JSONL_TASK_MAX_LINES } from '../../common/finetuneConfig';
import { trainTokenizer } from '../tokenizers';
import { jsonlSplit, labelList, parseJsonlTask, readJsonlTask } from './jsonlTask';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jsonl-task-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string) => { const f = path.join(tmp, name); fs.writeFileSync(f, text); return f; };
const refusedWith = (text: string, re: RegExp) => assert.throws(() => parseJsonlTask(text, 'task.jsonl'), (e: Error) => re.test(e.message), `expected ${re}`);

test('each bad line is refused naming the file, the line and the field', () => {
  refusedWith('{"text":"a","label":"x"}\n{"text":"b","label":"y"\n', /task\.jsonl:2: is not JSON/);
  refusedWith('{"text":"a","label":"x"}\n\n["b","y"]\n', /task\.jsonl:3: is an array, not an object/);
  refusedWith('{"text":"a","label":"x"}\n{"label":"y"}\n', /task\.jsonl:2: field "text" is missing/);
  refusedWith('{"text":"a","label":"x"}\n{"text":"  ","label":"y"}\n', /task\.jsonl:2: field "text" is empty/);
  refusedWith('{"text":"a","label":"x"}\n{"text":"b"}\n', /task\.jsonl:2: field "label" is missing/);
  refusedWith('{"text":"a","label":"x"}\n{"text":"b","label":1.5}\n', /task\.jsonl:2: field "label" is 1.5/);
  refusedWith('{"text":"a","label":"x"}\n{"text":"b","label":"y","text_pair":3}\n', /task\.jsonl:2: field "text_pair" is a number/);
  refusedWith('{"text":"a","label":"x"}\n{"text":"b","label":"y","sentence":"c"}\n', /task\.jsonl:2: has field "sentence", which a task does not read/);
  refusedWith('{"text":"a","label":"x"}\n', /has 1 record\(s\); a task needs at least two/);
});

test('labels come in a stable order: integers numerically, others as text; one class is refused', () => {
  const recs = (labels: string[]) => labels.map((label, i) => ({ text: 't', label, line: i + 1 }));
  assert.deepEqual(labelList(recs(['10', '2', '1', '2']), 'f'), ['1', '2', '10']);
  assert.deepEqual(labelList(recs(['pos', 'neg', 'neutral']), 'f'), ['neg', 'neutral', 'pos']);
  assert.throws(() => labelList(recs(['a', 'a']), 'f'), /every record has label "a"; a classifier needs at least two classes/);
  const parsed = parseJsonlTask('{"text":"a","label":1}\n{"text":"b","label":true}\n', 'f');
  assert.deepEqual(parsed.map((r) => r.label), ['1', 'true']);
});

test('the read is bounded: more lines than the stated limit are refused with the limit named', () => {
  const many = '{"text":"a","label":"x"}\n'.repeat(JSONL_TASK_MAX_LINES + 1);
  assert.throws(() => parseJsonlTask(many, 'big.jsonl'), /big\.jsonl: has more than 200,000 records \(line 200001\)/);
});

test('a missing file and a folder are refused naming the path', async () => {
  await assert.rejects(readJsonlTask(path.join(tmp, 'nope.jsonl')), /nope\.jsonl: no such file/);
  await assert.rejects(readJsonlTask(tmp), /is a folder, not a file/);
});

test('the split is by line within each label, seeded, and pairs are framed and cut to the context', async () => {
  const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `line ${i} ${'word '.repeat(i % 7)}`, text_pair: 'the other text is here', label: i % 3 === 0 ? 'a' : 'b' }));
  const file = write('pairs.jsonl', `${lines.join('\n')}\n`);
  const tok = trainTokenizer({ kind: 'wordpiece', vocabSize: 120 }, lines.join(' '));
  const o = { arch: 'bert' as const, contextTokens: 12, testShare: 0.25, seed: 5 };
  const s = await jsonlSplit(file, tok, o);
  assert.deepEqual(s.labels, ['a', 'b']);
  const trainLines = new Set(s.train.map((e) => e.unit));
  assert.ok(s.test.every((e) => !trainLines.has(e.unit)), 'no line on both sides');
  assert.equal(s.train.length + s.test.length, 40);
  assert.deepEqual(s.balance.test, [Math.round(14 * 0.25), Math.round(26 * 0.25)], 'each label holds out its share');
  assert.ok([...s.train, ...s.test].every((e) => e.a.length + (e.b?.length ?? 0) + 3 <= 12 && e.b), 'a pair fits with [CLS] [SEP] [SEP]');
  const again = await jsonlSplit(file, tok, o);
  assert.deepEqual(again.test.map((e) => e.unit), s.test.map((e) => e.unit), 'same seed, same split');
  const other = await jsonlSplit(file, tok, { ...o, seed: 6 });
  assert.notDeepEqual(other.test.map((e) => e.unit), s.test.map((e) => e.unit), 'another seed, another split');
});
