import type { CellInput } from '../lib/cellConfig';
import { activeJobOf } from '../state/selectors';
import type { Store } from '../state/store';

type FinetuneCellT = Extract<CellInput, { kind: 'finetune' }>;

/** Why a fine-tune cell cannot run now, or null: it needs a base run of this experiment with a checkpoint, and no run of its own going. */
export function finetuneCannotRun(s: Store, cell: FinetuneCellT): string | null {
  if (!cell.baseRunId) return 'pick a base run: a run of this experiment to start from';
  const base = s.history.find((r) => r.id === cell.baseRunId);
  if (base && !base.ok) return `the base run ${cell.baseRunId} cannot be read: ${base.problem}`;
  if (base?.ok && base.run.lastCheckpoint === null) return `the base run ${cell.baseRunId} has no checkpoint yet; train it to one first`;
  if (activeJobOf(s, cell.id)) return 'it is running';
  if (s.engine && (s.engine.state === 'crashed' || s.engine.state === 'stopped')) return 'the engine is not running; restart it';
  return null;
}
