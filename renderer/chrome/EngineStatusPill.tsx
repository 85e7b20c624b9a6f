import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../state/store';

/** The engine's state at a glance; its backend and device in the tooltip. */
export function EngineStatusPill() {
  const e = useStore(useShallow((s) => ({ state: s.engine?.state ?? 'unknown', backend: s.engine?.backend ?? null, lastExit: s.engine?.lastExit ?? null, pid: s.engine?.pid ?? null })));
  const label = e.state === 'ready' && e.backend ? `engine · ${e.backend.name}` : `engine · ${e.state}`;
  const title = [
    `state: ${e.state}`,
    e.backend && `backend: ${e.backend.name} (${e.backend.package} ${e.backend.version}), ${e.backend.device}, ${e.backend.threads} threads`,
    e.pid !== null && `pid ${e.pid}`,
    e.lastExit && `last exit: ${e.lastExit}`,
  ].filter(Boolean).join('\n');
  return <span className={`pill engine-${e.state}`} title={title} role="status" data-pid={e.pid ?? undefined}><span className="dot" />{label}</span>;
}
