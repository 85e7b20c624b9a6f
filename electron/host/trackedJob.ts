/** Starting an engine job whose events a host service follows. */
import type { JobSpec } from '../../common/protocol';
import type { EngineSupervisor } from './engineSupervisor';

/**
 * job.start, with `tracked` in `jobs` before the engine hears of it — its first events may come right
 * after the reply — and out again when the engine refuses it.
 */
export async function startTrackedJob<T>(engine: EngineSupervisor, jobs: Map<string, T>, jobId: string, job: JobSpec, tracked: T): Promise<void> {
  jobs.set(jobId, tracked);
  try {
    await engine.request((c) => c.request({ type: 'job.start', jobId, job }));
  } catch (err) {
    jobs.delete(jobId);
    throw err;
  }
}
