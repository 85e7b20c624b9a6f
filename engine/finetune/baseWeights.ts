/**
 * A fine-tuned model starts from its base's checkpoint: every weight the two models share by name and shape
 * is copied from the base (opened through the one door, loadRunModel); the rest — the new classification
 * head, or a head of another width when a classifier is fine-tuned again — keeps its seeded initialisation.
 */
import type { BaseRunRef } from '../../common/runConfig';
import type { AnyModel } from '../models/registry';
import { loadRunModel } from '../runs/loadRunModel';

/** Copies the base's weights into `model`; returns the names that start fresh. */
export async function loadBaseWeights(model: AnyModel, base: BaseRunRef): Promise<string[]> {
  const rm = await loadRunModel(base.runDir, base.checkpoint);
  try {
    const fresh: string[] = [];
    for (const name of model.params.names) {
      const from = rm.model.params.has(name) ? rm.model.params.get(name) : null;
      if (from && from.shape.join() === model.params.get(name).shape.join()) model.params.assign(name, from);
      else fresh.push(name);
    }
    return fresh;
  } finally {
    rm.model.dispose();
  }
}
