/**
 * The sample and fill-mask panels on a page of their own, against the real host: what the end-to-end test
 * drives (e2e/sample.e2e.test.ts) whatever cell mounts them in the notebook. The run comes from the URL
 * (?experiment=PATH&run=ID[&checkpoint=last]); "show attention" lands in a box below, where the test reads it.
 */
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import '../styles.css';
import { FillMaskPanel } from './FillMaskPanel';
import { SamplePanel } from './SamplePanel';

function SamplePanelsPage() {
  const q = new URLSearchParams(location.search);
  const experimentPath = q.get('experiment') ?? '';
  const runId = q.get('run') ?? '';
  const checkpoint = q.get('checkpoint') ?? 'last';
  const panel = q.get('panel') === 'fill-mask' ? 'fill-mask' : 'sample';
  const [sent, setSent] = useState<string | null>(null);
  if (!experimentPath || !runId) return <div className="inline-error">Give the run in the address: ?experiment=PATH&amp;run=ID[&amp;checkpoint=last][&amp;panel=sample|fill-mask]</div>;
  const props = { experimentPath, runId, checkpoint, onSendToAttention: setSent };
  return (
    <div className="notebook" style={{ padding: '16px 24px' }}>
      <div className="cell"><div className="cell-body">
        <div className="output-head" style={{ marginBottom: 10 }}><span className="kind">{panel}</span><span className="muted small mono">{runId} · {checkpoint}</span></div>
        {panel === 'sample' ? <SamplePanel {...props} /> : <FillMaskPanel {...props} />}
        {sent !== null && <pre className="output mono small" data-testid="sent-to-attention" style={{ whiteSpace: 'pre-wrap' }}>{sent}</pre>}
      </div></div>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(<StrictMode><SamplePanelsPage /></StrictMode>);
