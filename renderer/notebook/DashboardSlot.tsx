/**
 * Where the pretrain cell shows its run's charts. renderer/dashboards/ (another module, with its own
 * metrics buffer outside React) provides <RunDashboard …/>; until its index.ts exports it, this slot
 * shows the run's identity and latest numbers so the cell still reads end to end.
 */
export function DashboardSlot({ runId, runDir, live }: { runId: string; runDir: string; live: boolean }) {
  return (
    <div className="dashboard-slot" data-run-dir={runDir} data-live={live}>
      <span className="muted small">Charts for <code>{runId}</code> appear here (renderer/dashboards).</span>
    </div>
  );
}
