import { useState } from 'react';
import { runCommand } from '../commands';
import { resumableRun, resumeRun } from '../session/runs';
import { useStore } from '../state/store';

/** The engine crashed: what is safe, and the two ways forward. */
function EngineCrashed({ message }: { message?: string }) {
  const history = useStore((s) => s.history);
  const engineDown = useStore((s) => s.engine?.state === 'crashed' || s.engine?.state === 'stopped');
  const dismiss = useStore((s) => s.dismissBanner);
  const [resuming, setResuming] = useState(false);
  // recomputed when the runs list changes
  const resumable = history ? resumableRun() : null;
  return (
    <div className="banner error" role="alert">
      <div className="banner-text">
        <strong>The engine stopped unexpectedly{engineDown ? '' : ' (it has been restarted)'}.</strong>
        <span>Your experiment and every finished checkpoint are intact on disk. {engineDown ? 'Restart the engine, then resume' : 'Resume'} the interrupted run from its last checkpoint.</span>
        {message && <span className="muted small">{message}</span>}
      </div>
      <div className="banner-actions">
        <button className="btn" disabled={!engineDown} onClick={() => void runCommand('engine.restart')}>Restart engine</button>
        <button className="btn primary" disabled={!resumable || resuming} title={resumable ? `resume ${resumable.runId}` : 'no interrupted run of this experiment'}
          onClick={async () => {
            if (!resumable) return;
            setResuming(true);
            if (engineDown) await runCommand('engine.restart');
            await resumeRun(resumable.runId, resumable.cellId);
            setResuming(false);
            dismiss('engine-crashed');
          }}>
          Resume run
        </button>
        <button className="icon-btn" aria-label="Dismiss" onClick={() => dismiss('engine-crashed')}>✕</button>
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
          <div className="banner-actions">
            {b.actions?.map((a) => (
              <button key={a.command} className={a.primary ? 'btn primary' : 'btn'} onClick={() => void runCommand(a.command)}>{a.label}</button>
            ))}
            <button className="icon-btn" aria-label="Dismiss" onClick={() => dismiss(b.id)}>✕</button>
          </div>
        </div>
      )))}
    </div>
  );
}
