import { useState } from 'react';
import type { TorchExportResult } from '../../common/torchExport';
import { errorMessage, getApi } from '../api';
import { fileName } from '../lib/format';
import { useStore } from '../state/store';

type State = { phase: 'idle' } | { phase: 'exporting' } | { phase: 'done'; result: TorchExportResult } | { phase: 'failed'; message: string };

/**
 * "Export for a cluster": the pretrain cell, as saved, as a PyTorch project (torch/CELL_ID beside the experiment)
 * for torchrun with DDP, ZeRO-1 or FSDP; its runs, written into the experiment's runs folder, show here like any run.
 */
export function ExportTorch({ cellId }: { cellId: string }) {
  const path = useStore((s) => s.path);
  const [state, setState] = useState<State>({ phase: 'idle' });
  const run = async (overwrite: boolean) => {
    if (!path) return;
    setState({ phase: 'exporting' });
    try {
      setState({ phase: 'done', result: await getApi().call('runs.exportTorch', { experimentPath: path, cellId, overwrite }) });
    } catch (err) {
      setState({ phase: 'failed', message: errorMessage(err) });
    }
  };
  return (
    <div className="export-torch" aria-label="export for a cluster">
      <button className="btn small" disabled={!path || state.phase === 'exporting'} onClick={() => void run(false)}
        title={path ? 'this cell as a PyTorch project: model.py, train.py (DDP, ZeRO-1, FSDP, bf16), launch.sh for torchrun, the tokenized dataset and the same initial weights' : 'save the experiment first'}>
        {state.phase === 'exporting' ? 'Exporting for a cluster…' : 'Export for a cluster'}
      </button>
      {state.phase === 'failed' && (
        <div className="inline-error" role="alert">The PyTorch project was not written: {state.message}
          {/is not empty/.test(state.message) && <> <button className="btn small" onClick={() => void run(true)}>Replace it</button></>}
        </div>
      )}
      {state.phase === 'done' && (
        <div className="muted small">
          PyTorch project ({state.result.arch}, {state.result.objective}, {state.result.parameters.toLocaleString('en')} parameters) in <span className="mono" title={state.result.outDir}>{fileName(state.result.outDir)}/</span>:
          {' '}<span className="mono">NPROC_PER_NODE=2 bash launch.sh --zero1 --out ../../{path ? fileName(path).replace(/\.(experiment\.)?json$/, '') : 'NAME'}.runs</span> trains it; the run then shows here beside this cell's runs.
        </div>
      )}
    </div>
  );
}
