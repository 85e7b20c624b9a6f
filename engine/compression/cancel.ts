/** A compression step stops between pieces of work when its job is cancelled, as a JOB_CANCELLED the caller reports as such. */
import { EngineError } from '../../common/errors';

export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new EngineError('JOB_CANCELLED', `${what} cancelled`);
}
