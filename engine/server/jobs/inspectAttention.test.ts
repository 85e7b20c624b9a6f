/**
 * The inspect job on tiny trained runs: the cached maps are the model's own returnAttentions output at each
 * checkpoint (the output the golden tests check against PyTorch), a second request is served from the
 * cache, a replay over every kept checkpoint reports progress and stops at a cancel, and the cache keeps
 * to its bounds, least recently used first.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InspectAttentionResult, type InspectMeta } from '../../../common/inspect';
import { evictInspectCache, inspectDirOf, inspectKey, listInspectCheckpoints, readInspectHeads, readInspectMeta } from '../../../common/node/inspectCache';
import { TINY_BERT, TINY_GPT, tinyBertTokenizer, tinyRun } from '../../inspect/tinyRuns.testing';
import { loadRunModel, type RunModel } from '../../runs/loadRunModel';
import { useBackend } from '../../testing';
import type { JobContext } from '../job';
import { inspectAttention } from './inspectAttention';

let tmp: string;
let gptDir: string;
let bertDir: string;

before(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inspect-job-'));
  gptDir = await tinyRun(path.join(tmp, 'gpt'), TINY_GPT, { pretrain: { checkpointInterval: 2, keepCheckpoints: 5 } });
  bertDir = await tinyRun(path.join(tmp, 'bert'), TINY_BERT, { tokenizer: tinyBertTokenizer });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function context(o: { onProgress?: (step: number, total: number) => void; signal?: AbortSignal } = {}): JobContext {
  const signal = o.signal ?? new AbortController().signal;
  return {
    jobId: 'inspect-test', signal, backend: null,
    progress: (step: number, total: number) => o.onProgress?.(step, total), log: () => undefined, runEvents: () => undefined, onControl: () => undefined,
    checkpoint: async () => { if (signal.aborted) throw Object.assign(new Error('cancelled'), { code: 'JOB_CANCELLED' }); },
  };
}

/** returnAttentions of the model, flat [layer][head][query][key]. */
async function modelMaps(rm: RunModel, ids: number[], types?: number[]): Promise<Float32Array> {
  const layers = tf.tidy(() => rm.model.forward({
    inputIds: tf.tensor2d(ids, [1, ids.length], 'int32'),
    ...(types ? { tokenTypeIds: tf.tensor2d(types, [1, ids.length], 'int32') } : {}),
  }, { returnAttentions: true }).attentions!.map((a) => a.dataSync() as Float32Array));
  const out = new Float32Array(layers.reduce((n, l) => n + l.length, 0));
  layers.reduce((at, l) => { out.set(l, at); return at + l.length; }, 0);
  return out;
}

async function cachedMaps(runDir: string, key: string, meta: InspectMeta): Promise<Float32Array> {
  const n = meta.T * meta.T;
  const out = new Float32Array(meta.layers * meta.heads * n);
  await readInspectHeads(runDir, key, meta, (l, h, map) => out.set(map, (l * meta.heads + h) * n));
  return out;
}

describe('inspect.attention job', () => {
  it('GPT: every kept checkpoint\'s cached maps are that checkpoint\'s returnAttentions output; progress per checkpoint', async () => {
    const listed = await listInspectCheckpoints(gptDir);
    assert.ok(listed.checkpoints.length >= 3, `several checkpoints kept: ${listed.checkpoints.map((c) => c.name)}`);
    const progress: string[] = [];
    const result = InspectAttentionResult.parse(await inspectAttention.run({ kind: 'inspect.attention', runDir: gptDir, checkpoints: listed.checkpoints.map((c) => c.name), text: 'ROMEO: speak' }, context({ onProgress: (s, t) => progress.push(`${s}/${t}`) })));
    const n = listed.checkpoints.length;
    assert.deepEqual(progress, Array.from({ length: n }, (_, i) => `${i + 1}/${n}`));
    assert.deepEqual(result.entries.map((e) => e.checkpoint), listed.checkpoints.map((c) => c.name));
    assert.ok(result.entries.every((e) => !e.cached));
    const distinct = new Set<string>();
    for (const e of result.entries) {
      const meta = (await readInspectMeta(gptDir, e.key))!;
      assert.equal(meta.checkpoint, e.checkpoint);
      assert.deepEqual(meta.tokens, [...'ROMEO: speak']);
      const rm = await loadRunModel(gptDir, e.checkpoint as `step-${number}`);
      try {
        const want = await modelMaps(rm, meta.ids);
        const got = await cachedMaps(gptDir, e.key, meta);
        assert.deepEqual(got, want, `${e.checkpoint}: the cache holds the model's own probabilities`);
        distinct.add(Array.from(got.subarray(0, 40)).join());
      } finally {
        rm.model.dispose();
      }
    }
    assert.equal(distinct.size, n, 'each checkpoint has maps of its own');
  });

  it('a second request is served from the cache; "last" and "best" resolve through the pointers', async () => {
    const listed = await listInspectCheckpoints(gptDir);
    const r = InspectAttentionResult.parse(await inspectAttention.run({ kind: 'inspect.attention', runDir: gptDir, checkpoints: ['last', 'best'], text: 'ROMEO: speak' }, context()));
    assert.deepEqual(r.entries.map((e) => e.checkpoint), [listed.last, listed.best]);
    assert.ok(r.entries.every((e) => e.cached), 'computed by the first test already');
    const other = await inspectAttention.run({ kind: 'inspect.attention', runDir: gptDir, checkpoints: ['last'], text: 'ROMEO: hear' }, context());
    assert.equal(other.entries[0].cached, false, 'another text is another entry');
    assert.notEqual(other.entries[0].key, r.entries[0].key);
  });

  it('BERT: a sentence pair carries token types and the maps equal returnAttentions with them', async () => {
    const r = await inspectAttention.run({ kind: 'inspect.attention', runDir: bertDir, checkpoints: ['last'], text: 'the king', pair: 'is dead' }, context());
    const e = r.entries[0];
    const meta = (await readInspectMeta(bertDir, e.key))!;
    assert.ok(meta.tokenTypeIds?.includes(1));
    assert.equal(meta.causal, false);
    const rm = await loadRunModel(bertDir, 'last');
    try {
      assert.deepEqual(await cachedMaps(bertDir, e.key, meta), await modelMaps(rm, meta.ids, meta.tokenTypeIds));
    } finally {
      rm.model.dispose();
    }
  });

  it('refuses a checkpoint the run lacks and an input longer than the context, naming them', async () => {
    await assert.rejects(inspectAttention.run({ kind: 'inspect.attention', runDir: gptDir, checkpoints: ['step-99999'], text: 'x' }, context()), /has no checkpoint step-99999 \(it has step-/);
    await assert.rejects(inspectAttention.run({ kind: 'inspect.attention', runDir: gptDir, checkpoints: ['last'], text: 'x'.repeat(TINY_GPT.contextLength + 1) }, context()),
      new RegExp(`is ${TINY_GPT.contextLength + 1} tokens, longer than the model's context of ${TINY_GPT.contextLength} tokens`));
  });

  it('a cancel stops a replay between checkpoints', async () => {
    const listed = await listInspectCheckpoints(gptDir);
    const ac = new AbortController();
    let seen = 0;
    await assert.rejects(inspectAttention.run({ kind: 'inspect.attention', runDir: gptDir, checkpoints: listed.checkpoints.map((c) => c.name), text: 'to be cancelled' },
      context({ signal: ac.signal, onProgress: (s) => { seen = s; if (s === 1) ac.abort(); } })), /cancelled/);
    assert.equal(seen, 1, 'no checkpoint after the cancel');
    assert.equal(await readInspectMeta(gptDir, await inspectKey(gptDir, listed.checkpoints[1].name, { text: 'to be cancelled' })), null);
  });

  it('the cache keeps to its bounds, evicting the least recently used entries and orphaned maps', async () => {
    const dir = inspectDirOf(gptDir);
    const keys = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));
    assert.ok(keys.length >= 4);
    // mark the first key as just used: it survives a cut to two entries
    const used = await inspectKey(gptDir, (await listInspectCheckpoints(gptDir)).checkpoints[0].name, { text: 'ROMEO: speak' });
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(await readInspectMeta(gptDir, used));
    fs.writeFileSync(path.join(dir, `${'f'.repeat(32)}.f32`), 'orphan');
    const removed = await evictInspectCache(gptDir, undefined, { entries: 2, bytes: Number.MAX_SAFE_INTEGER });
    assert.equal(removed.length, keys.length - 2);
    assert.ok(!removed.includes(used), 'the entry just read stays');
    const left = fs.readdirSync(dir);
    assert.equal(left.filter((n) => n.endsWith('.json')).length, 2);
    assert.equal(left.filter((n) => n.endsWith('.f32')).length, 2, 'maps go with their entries, orphans too');
    const bytes = await evictInspectCache(gptDir, undefined, { entries: 100, bytes: 1 });
    assert.equal(bytes.length, 2, 'a byte bound below one entry empties the cache');
  });
});
