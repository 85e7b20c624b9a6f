/**
 * `inspect.attention`: the attention maps of one input at some checkpoints of a run — one for the inspect
 * cell's views, all of the kept ones for its checkpoint replay — each opened through loadRunModel and run
 * through engine/inspect's forward pass and statistics, written to the run's inspect cache
 * (common/node/inspectCache.ts). Bulky maps stay in files; the result names the entries. A checkpoint
 * already cached is not computed again. Progress after each checkpoint; a cancel is heard between them.
 */
import { EngineError } from '../../../common/errors';
import type { CheckpointRef, InspectAttentionResult, InspectMeta } from '../../../common/inspect';
import { inspectKey, listInspectCheckpoints, readInspectMeta, writeInspectEntry } from '../../../common/node/inspectCache';
import { attentionProbs, batchOf, encodeInput, inductionProbe, measureHeads } from '../../inspect/attentionMaps';
import { loadRunModel, type RunModel } from '../../runs/loadRunModel';
import type { JobHandler } from '../job';

/** Checkpoint names for the refs, 'last' and 'best' through the run's pointers; a missing one is named. */
async function resolveCheckpoints(runDir: string, refs: CheckpointRef[]): Promise<string[]> {
  const listed = await listInspectCheckpoints(runDir);
  return refs.map((ref) => {
    const name = ref === 'last' ? listed.last : ref === 'best' ? listed.best : listed.checkpoints.some((c) => c.name === ref) ? ref : null;
    if (!name) {
      throw new EngineError('INVALID_CONFIG', `${runDir}: has no checkpoint ${ref === 'last' || ref === 'best' ? `marked ${ref}` : ref} (it has ${listed.checkpoints.map((c) => c.name).join(', ') || 'none yet'}); pick one of its checkpoints`, ['checkpoint']);
    }
    return name;
  });
}

/** The maps of `text` (and `pair`) at the run model's checkpoint: the cache entry's meta and its flat [L][H][T][T] maps. */
export function inspectMaps(rm: RunModel, text: string, pair: string | undefined): { meta: InspectMeta; maps: Float32Array } {
  const c = rm.model.config;
  const input = encodeInput(rm.tokenizer, c, text, pair);
  const batch = batchOf(input, rm.tokenizer);
  const layers = attentionProbs(rm.model, batch); // each [1, H, T, T]
  const probe = c.causal ? inductionProbe(c, rm.tokenizer, rm.run.seed) : null;
  const stats = measureHeads(rm.model, batch, probe, layers);
  const maps = new Float32Array(layers.reduce((n, l) => n + l.length, 0));
  layers.reduce((at, l) => { maps.set(l, at); return at + l.length; }, 0);
  const meta: InspectMeta = {
    format: 'transformer-workbench.inspect', version: 1, checkpoint: rm.checkpoint.name, step: rm.checkpoint.step, arch: c.arch,
    text, ...(pair !== undefined ? { pair } : {}), tokens: input.tokens, ids: input.ids, ...(input.tokenTypeIds ? { tokenTypeIds: input.tokenTypeIds } : {}),
    layers: layers.length, heads: c.nHeads, T: batch.T, causal: c.causal, stats,
  };
  return { meta, maps };
}

export const inspectAttention: JobHandler<'inspect.attention'> = {
  usesDevice: true,
  async run(spec, ctx): Promise<InspectAttentionResult> {
    const names = await resolveCheckpoints(spec.runDir, spec.checkpoints);
    const input = { text: spec.text, ...(spec.pair !== undefined ? { pair: spec.pair } : {}) };
    const entries: InspectAttentionResult['entries'] = [];
    for (const [i, name] of names.entries()) {
      await ctx.checkpoint();
      const key = await inspectKey(spec.runDir, name, input);
      const have = await readInspectMeta(spec.runDir, key).catch(() => null);
      if (have) {
        entries.push({ checkpoint: name, step: have.step, key, cached: true });
      } else {
        const rm = await loadRunModel(spec.runDir, name as `step-${number}`);
        try {
          for (const note of rm.notes) ctx.log('warn', note);
          const { meta, maps } = inspectMaps(rm, spec.text, spec.pair);
          await writeInspectEntry(spec.runDir, key, meta, maps);
          entries.push({ checkpoint: name, step: meta.step, key, cached: false });
        } finally {
          rm.model.dispose();
        }
      }
      ctx.progress(i + 1, names.length, { message: name });
    }
    return { entries };
  },
};
