import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonProblem } from './jsonProblem';

const complaint = (text: string) => { try { JSON.parse(text); } catch (e) { return jsonProblem(e); } throw new Error('parsed'); };

test('a JSON complaint keeps the position and drops the quoted text', () => {
  assert.equal(complaint('SECRET-OUT'), "Unexpected token 'S': not valid JSON");
  assert.equal(complaint(' x'.repeat(40)), "Unexpected token 'x': not valid JSON");
  assert.match(complaint('{"a":1,'), /at position 7$/);
});
