import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssues } from './zodIssues';
import { TokenizerConfig } from './tokenizerConfig';

function refusal(input: unknown): string {
  const r = TokenizerConfig.safeParse(input);
  assert.equal(r.success, false, `accepted ${JSON.stringify(input)}`);
  return formatIssues(r.error!, { separator: '\n' });
}

describe('tokenizer config', () => {
  it('fills the defaults of each kind', () => {
    assert.deepEqual(TokenizerConfig.parse({ kind: 'char' }), { kind: 'char', specials: false });
    assert.deepEqual(TokenizerConfig.parse({ kind: 'bpe' }), { kind: 'bpe', vocabSize: 8000, minFrequency: 2 });
    assert.deepEqual(TokenizerConfig.parse({ kind: 'wordpiece' }), { kind: 'wordpiece', vocabSize: 8000, lowercase: true, minFrequency: 2 });
  });

  it('refuses impossible configs, naming the field and the fix', () => {
    assert.match(refusal({ kind: 'bpe', vocabSize: 100 }), /^vocabSize: vocabSize must be at least 261 \(5 special tokens \+ 256 byte symbols/);
    assert.match(refusal({ kind: 'wordpiece', vocabSize: 2.5 }), /^vocabSize: /);
    assert.match(refusal({ kind: 'bpe', minFrequency: 0 }), /^minFrequency: minFrequency must be a whole number ≥ 1/);
    assert.match(refusal({ kind: 'sentencepiece' }), /^kind: kind must be 'char', 'bpe' or 'wordpiece'/);
    assert.match(refusal({ kind: 'char', vocabSize: 65 }), /vocabSize/);
  });
});
