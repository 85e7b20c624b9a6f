/**
 * The inspect cell's calls, with the page's own small cache of head maps (the slider revisits them):
 * at most HEAD_CACHE_ENTRIES maps (one 512-token head is 1 MiB), least recently used dropped.
 */
import { float32FromBytes, fromBase64, type CheckpointRef, type InspectInput } from '../../common/inspect';
import { getApi } from '../api';

export const HEAD_CACHE_ENTRIES = 48;
const heads = new Map<string, Promise<HeadMap>>();

export interface RunRef { experimentPath: string; runId: string }
export interface HeadMap { checkpoint: string; step: number; T: number; map: Float32Array }

/** One head's map at a checkpoint, computed by the engine first when it is not cached in the run folder. */
export function fetchHead(run: RunRef, checkpoint: CheckpointRef, input: InspectInput, layer: number, head: number): Promise<HeadMap> {
  const key = JSON.stringify([run.experimentPath, run.runId, checkpoint, input.text, input.pair ?? null, layer, head]);
  const hit = heads.get(key);
  if (hit) {
    heads.delete(key);
    heads.set(key, hit);
    return hit;
  }
  const p = getApi().call('inspect.head', { ...run, checkpoint, ...input, layer, head })
    .then((h) => ({ checkpoint: h.checkpoint, step: h.step, T: h.T, map: float32FromBytes(fromBase64(h.data)) }));
  heads.set(key, p);
  p.catch(() => heads.delete(key));
  // 'last' and 'best' move as a run trains: only named checkpoints stay
  if (checkpoint === 'last' || checkpoint === 'best') void p.finally(() => heads.delete(key)).catch(() => undefined);
  while (heads.size > HEAD_CACHE_ENTRIES) heads.delete(heads.keys().next().value!);
  return p;
}

export const inputOf = (text: string, pair: string | undefined): InspectInput => ({ text, ...(pair ? { pair } : {}) });
