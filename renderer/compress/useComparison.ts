import { useCallback, useEffect, useState } from 'react';
import type { Comparison } from '../../common/compare';
import { errorMessage, getApi } from '../api';
import { refreshHistory } from '../session/runs';

export interface CompareJob { jobId: string; done: number; total: number; message: string | null }

/**
 * The comparison of a base run as the compress cell shows it: the table from the base run's file (re-read as
 * each model's row lands), the job measuring it with its progress, and start / cancel. The host's events are
 * for every window: this hook follows the ones of its own base run.
 */
export function useComparison(run: { experimentPath: string; runId: string } | null) {
  const [comparison, setComparison] = useState<Comparison | null>(null);
  const [job, setJob] = useState<CompareJob | null>(null);
  const [error, setError] = useState<string | null>(null);
  const experimentPath = run?.experimentPath;
  const runId = run?.runId;

  const reload = useCallback(async () => {
    if (!experimentPath || !runId) return;
    try {
      setComparison(await getApi().call('compare.read', { experimentPath, runId }));
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [experimentPath, runId]);

  useEffect(() => {
    setComparison(null);
    setJob(null);
    setError(null);
    if (!experimentPath || !runId) return;
    void reload();
    const mine = (p: { experimentPath: string; runId: string }) => p.experimentPath === experimentPath && p.runId === runId;
    const api = getApi();
    const offs = [
      api.on('onCompareProgress', (p) => {
        if (!mine(p)) return;
        setJob({ jobId: p.jobId, done: p.done, total: p.total, message: p.message });
        if (p.message?.startsWith('row ')) void reload();
      }),
      api.on('onCompareEnded', (p) => {
        if (!mine(p)) return;
        setJob(null);
        if (p.outcome === 'failed') setError(p.error?.message ?? 'the comparison failed');
        if (p.outcome === 'cancelled') setError('cancelled; the rows measured before the cancel are kept');
        void reload();
        // the comparison found the variants on disk: the runs list follows, so the cell lists what it compared
        void refreshHistory();
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [experimentPath, runId, reload]);

  const start = async (params: { checkpoint?: string }) => {
    if (!experimentPath || !runId) return;
    setError(null);
    try {
      const { jobId } = await getApi().call('compare.start', { experimentPath, runId, ...params });
      setJob((j) => j ?? { jobId, done: 0, total: 0, message: 'starting' });
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const cancel = async () => {
    if (!job) return;
    try {
      await getApi().call('compare.cancel', { jobId: job.jobId });
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return { comparison, job, error, start, cancel };
}
