/**
 * The attention time-lapse: at every evaluation a pretraining run writes its head statistics on the fixed
 * probe set to attention-stats.jsonl (and a few of them to metrics.jsonl), states their cost in its log,
 * and a run stopped and resumed writes exactly what the uninterrupted run writes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AttentionStatsLine } from '../../common/attentionMaps';
import { ATTENTION_STATS_FILE } from '../../common/node/runFiles';
import { readJsonLines } from '../runs/jsonLinesLog';
import { readMetrics } from '../runs/metricsLog';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../inspect/tinyRuns.testing';
import { useBackend } from '../testing';
import { Trainer } from './trainer';

let tmp: string;
before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-stats-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const statsOf = async (runDir: string) => {
  const r = await readJsonLines(path.join(runDir, ATTENTION_STATS_FILE), AttentionStatsLine, 'an attention statistics line');
  assert.deepEqual(r.problems, []);
  return r.lines;
};

describe('attention statistics during pretraining', () => {
  it('GPT: one line per evaluation with every statistic per layer and head, scalars in metrics.jsonl, the cost in the log', async () => {
    const logs: string[] = [];
    const dir = await tinyRun(path.join(tmp, 'gpt'), TINY_GPT, { onEvent: (e) => { if (e.type === 'log') logs.push(e.message); } });
    const lines = await statsOf(dir);
    assert.deepEqual(lines.map((l) => l.step), [3, 6]);
    for (const l of lines) {
      assert.equal(l.stats.entropy.length, TINY_GPT.nLayers);
      assert.equal(l.stats.entropy[0].length, TINY_GPT.nHeads);
      assert.equal(l.stats.induction?.length, TINY_GPT.nLayers, 'a causal model has induction scores');
      assert.equal(l.seqLen, TINY_GPT.contextLength);
    }
    assert.notDeepEqual(lines[0].stats, lines[1].stats, 'the heads change as the model trains');
    const { records } = await readMetrics(dir);
    const at3 = records.find((r) => r.step === 3)!;
    assert.equal(at3.scalars['attn_entropy/h.1.0'], lines[0].stats.entropy[1][0]);
    assert.equal(at3.scalars['attn_induction/h.0.1'], lines[0].stats.induction![0][1]);
    assert.equal(records.find((r) => r.step === 2)!.scalars['attn_entropy/h.1.0'], undefined, 'only at evaluations');
    assert.ok(logs.some((m) => /attention statistics on the probe set .* take \d+ ms per evaluation/.test(m)), logs.join('\n'));
  });

  it('BERT: shares on [CLS]/[SEP] of held-out sequences, no induction probe', async () => {
    const dir = await tinyRun(path.join(tmp, 'bert'), TINY_BERT, { tokenizer: tinyBertTokenizer });
    const [first] = await statsOf(dir);
    assert.equal(first.stats.induction, null);
    assert.ok(first.stats.specialShare![0].every((v) => v > 0 && v < 1));
  });

  it('a run stopped and resumed writes the lines of the uninterrupted run, none twice', async () => {
    const whole = await statsOf(await tinyRun(path.join(tmp, 'whole'), TINY_GPT));
    const dir = await tinyRun(path.join(tmp, 'stopped'), TINY_GPT, { stopAt: 4 });
    assert.deepEqual((await statsOf(dir)).map((l) => l.step), [3]);
    const summary = await (await Trainer.resume(dir, { cacheDir: null })).run();
    assert.equal(summary.status, 'completed');
    const resumed = await statsOf(dir);
    assert.deepEqual(resumed.map((l) => l.stats), whole.map((l) => l.stats));
  });
});
