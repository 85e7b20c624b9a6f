/**
 * `compare.measure`: the comparison of a base run and its variants (engine/compare/measure.ts) as an engine
 * job. The table is in the base run's compare/ files; progress events say which model is being measured
 * (`message`) and, as each row lands in the files, carry its run id and headline figures (`metrics`), so that
 * a view re-reads the file — never the table itself. A cancel is heard between batches and repetitions.
 */
import { meanHeadJs } from '../../../common/compare';
import { measureComparison } from '../../compare/measure';
import type { JobHandler } from '../job';

export const compareMeasure: JobHandler<'compare.measure'> = {
  usesDevice: true,
  async run(spec, ctx) {
    let done = 0;
    const out = await measureComparison({
      baseRunDir: spec.baseRunDir, baseCheckpoint: spec.baseCheckpoint, variantRunDirs: spec.variantRunDirs,
      evalBatches: spec.evalBatches, batchSize: spec.batchSize, backend: ctx.backend, threads: ctx.backend?.threads ?? 1,
      signal: ctx.signal, checkpoint: () => ctx.checkpoint(),
      onStage: (message, planned) => ctx.progress(done, planned, { message }),
      onRow: (row, n, planned) => {
        done = n;
        const figures = { valLoss: row.valLoss, klToBase: row.klToBase, top1Agreement: row.top1Agreement, bytesOnDisk: row.bytesOnDisk, meanHeadJs: meanHeadJs(row) };
        ctx.progress(done, planned, { message: `row ${row.runId}`, metrics: Object.fromEntries(Object.entries(figures).filter((e): e is [string, number] => typeof e[1] === 'number')) });
      },
    });
    return { jsonFile: out.jsonFile, csvFile: out.csvFile, rows: out.comparison.rows.length, failed: out.comparison.rows.filter((r) => r.error).length };
  },
};
