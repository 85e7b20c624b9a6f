/** What the panels need to know of a run before they ask anything of its model: its architecture and context. */
import { useEffect, useState } from 'react';
import { modelOfRun, runConfigOf } from '../../common/runConfig';
import { errorMessage, getApi } from '../api';

export interface RunModelInfo {
  arch: 'gpt' | 'bert';
  contextLength: number;
}

/** The run's model facts from runs.list (null while loading), or why they could not be read. */
export function useRunModelInfo(experimentPath: string, runId: string): { info: RunModelInfo | null; error: string | null } {
  const [state, setState] = useState<{ info: RunModelInfo | null; error: string | null }>({ info: null, error: null });
  useEffect(() => {
    let live = true;
    setState({ info: null, error: null });
    getApi().call('runs.list', { experimentPath }).then((runs) => {
      if (!live) return;
      const entry = runs.find((r) => r.id === runId);
      if (!entry) return setState({ info: null, error: `Run ${runId} is not among the runs of ${experimentPath}.` });
      if (!entry.ok) return setState({ info: null, error: `Run ${runId} cannot be read: ${entry.problem}` });
      const model = modelOfRun(runConfigOf(entry.run));
      if (!model) return setState({ info: null, error: `Run ${runId} has a config this workbench cannot read.` });
      setState({ info: { arch: model.arch, contextLength: model.contextLength }, error: null });
    }, (err) => { if (live) setState({ info: null, error: errorMessage(err) }); });
    return () => { live = false; };
  }, [experimentPath, runId]);
  return state;
}
