import { useState } from 'react';
import { runCommand } from '../commands';
import { resumableRun, resumeRun } from '../session/runs';
import { useStore } from '../state/store';

/** The engine crashed: what is safe, and the two ways forward. */
function EngineCrashed({ message }: { message?: string }) {
  const history = useStore((s) => s.history);
  const [resuming, setResuming] = useState(false);
  const resumable = history.length >= 0 ? resumableRun() : null;
  return (
    <div className="banner error" role="alert">
      <div className="banner-text">
        <strong>The engine stopped unexpectedly.</strong>
        <span>Your experiment and every finished checkpoint are intact on disk{message ? ` (${message})` : ''}. Restart the engine, then resume the interrupted run from its last checkpoint.</span>
      </div>
      <div className="banner-actions">
        <button className="btn" onClick={() => void runCommand('engine.restart')}>Restart engine</button>
        <button className="btn primary" disabled={!resumable || resuming} title={resumable ? `resume ${resumable.runId}` : 'no interrupted run of this experiment'}
          onClick={async () => { if (!resumable) return; setResuming(true); await runCommand('engine.restart'); await resumeRun(resumable.runDir, resumable.cellId); setResuming(false); }}>
          Resume run
        </button>
      </div>
    </div>
  );
}

export function Banners() {
  const banners = useStore((s) => s.banners);
  const dismiss = useStore((s) => s.dismissBanner);
  if (!banners.length) return null;
  return (
    <div className="banners">
      {banners.map((b) => (b.id === 'engine-crashed' ? <EngineCrashed key={b.id} message={b.message} /> : (
        <div key={b.id} className={`banner ${b.tone}`} role={b.tone === 'error' ? 'alert' : 'status'}>
          <div className="banner-text"><strong>{b.title}</strong>{b.message && <pre className="banner-message">{b.message}</pre>}</div>
          <button className="icon-btn" aria-label="Dismiss" onClick={() => dismiss(b.id)}>✕</button>
        </div>
      )))}
    </div>
  );
}
