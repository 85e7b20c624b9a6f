import { startServe, stopServe } from '../session/serve';
import { useStore } from '../state/store';

/** The Serve button of a run in the runs table: starts its inference server, or stops it. */
export function ServeButton({ runId }: { runId: string }) {
  const state = useStore((s) => s.serving[runId]);
  if (state?.phase === 'starting') return <button className="btn small" disabled>Starting…</button>;
  if (state?.phase === 'serving') return <button className="btn small" onClick={(e) => { e.stopPropagation(); void stopServe(runId); }}>Stop serving</button>;
  return <button className="btn small" title="an OpenAI-style HTTP server of this run's model on 127.0.0.1" onClick={(e) => { e.stopPropagation(); void startServe(runId); }}>Serve</button>;
}

/** Under a served run: where its server listens and a curl to try (token included), or why it did not start. */
export function ServeDetails({ runId, colSpan }: { runId: string; colSpan: number }) {
  const state = useStore((s) => s.serving[runId]);
  if (!state || state.phase === 'starting') return null;
  return (
    <tr className="serve-details">
      <td colSpan={colSpan}>
        {state.phase === 'failed'
          ? <div className="inline-error" role="alert">The server did not start: {state.message}</div>
          : (
            <div aria-label={`inference server of ${runId}`}>
              <div>Serving <span className="mono">{state.info.model}</span> (checkpoint {state.info.checkpoint}) at <a className="mono serve-url" href={state.info.health} target="_blank" rel="noreferrer">{state.info.url}</a></div>
              <pre className="serve-curl mono">{state.info.curl}</pre>
            </div>
          )}
      </td>
    </tr>
  );
}
