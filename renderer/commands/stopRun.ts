import { controlRun } from '../session/runs';
import { activeJobOf, anyActiveJob } from '../state/selectors';
import { register } from './register';

/** Stops the cell's running job (or the only one running) after its current step, with a checkpoint. */
export const stopRun = register({
  id: 'run.stop',
  label: 'Stop run',
  cellScoped: true,
  enabled: (s, id) => Boolean(activeJobOf(s, id ?? undefined) ?? anyActiveJob(s)),
  async perform(ctx) {
    const s = ctx.getState();
    const job = activeJobOf(s, ctx.cellId ?? undefined) ?? anyActiveJob(s);
    if (job) await controlRun(job.cellId, 'stop');
  },
});
