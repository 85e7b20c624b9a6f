import type { z } from 'zod';
import type { RunRef } from '../../common/experiment';
import type { RunEvent } from '../../common/runEvents';
import { errorMessage, getApi } from '../api';
import { ingestRunEvents } from '../dashboards';
import { configOf, pretrainCellHash } from '../lib/cellConfig';
import { fileName } from '../lib/format';
import { hashValue } from '../lib/hash';
import { updateCell } from '../state/documentSlice';
import { activeJobOf, cannotRun, isDirty } from '../state/selectors';
import { useStore } from '../state/store';
import { saveExperiment } from './documents';

/** Runs of pretrain cells, dataset previews, and the engine: the calls, and the events that answer them. */

const store = useStore;
type RunRefT = z.input<typeof RunRef>;

export async function refreshHistory(): Promise<void> {
  const path = store.getState().path;
  if (!path) return;
  try {
    const list = await getApi().call('runs.list', { experimentPath: path });
    if (store.getState().path !== path) return;
    store.getState().setHistory([...list].reverse());
  } catch (err) {
    store.getState().setHistory([], errorMessage(err));
  }
}

/** Runs a cell: a dataset cell previews its data, a pretrain cell starts training; others only validate. */
export async function runCell(cellId: string): Promise<void> {
  const s = store.getState();
  const why = cannotRun(s, cellId);
  if (why) { s.showBanner({ id: `run-${cellId}`, tone: 'warning', title: `Cannot run '${cellId}'`, message: why }); return; }
  s.dismissBanner(`run-${cellId}`);
  const cell = s.doc!.cells.find((c) => c.id === cellId)!;
  if (cell.kind === 'notes') { s.setEditingNotes(s.editingNotes === cellId ? null : cellId); return; }
  if (cell.kind === 'dataset') return previewDataset(cellId);
  if (cell.kind !== 'pretrain') return;

  // runs.start reads the saved file: runs live beside it and record what it said when they started
  if (!s.path) {
    s.showBanner({ id: `run-${cellId}`, tone: 'info', title: 'Save the experiment first', message: 'Its runs are kept in a folder beside the experiment file.' });
    s.setOpenDialog('save');
    return;
  }
  if (isDirty(s) && !(await saveExperiment())) return;
  const configHash = pretrainCellHash(store.getState().doc!.cells, cellId);
  try {
    const { jobId } = await getApi().call('runs.start', { experimentPath: store.getState().path!, cellId });
    store.getState().jobStarted(jobId, cellId, configHash);
    store.getState().selectRun(null);
  } catch (err) {
    store.getState().showBanner({ id: `run-${cellId}`, tone: 'error', title: `Could not start '${cellId}'`, message: errorMessage(err) });
  }
}

export async function controlRun(cellId: string, action: 'pause' | 'resume' | 'stop'): Promise<void> {
  const job = activeJobOf(store.getState(), cellId);
  if (!job) return;
  try {
    await getApi().call('runs.control', { jobId: job.jobId, action });
  } catch (err) {
    store.getState().showBanner({ tone: 'error', title: `Could not ${action} the run`, message: errorMessage(err) });
  }
}

/** Continues an interrupted or stopped run from its newest checkpoint. */
export async function resumeRun(runDir: string, cellId: string): Promise<void> {
  try {
    const { jobId } = await getApi().call('runs.resume', { runDir });
    const s = store.getState();
    s.jobStarted(jobId, cellId, s.doc ? pretrainCellHash(s.doc.cells, cellId) : null);
    s.selectRun(null);
    // a run folder is named by its run id; the resumed run is on the dashboard even if it was unticked
    s.setRunOverlaid(cellId, fileName(runDir), true);
  } catch (err) {
    store.getState().showBanner({ tone: 'error', title: 'Could not resume the run', message: errorMessage(err) });
  }
}

/** The dataset cell's preview: samples raw / cleaned / tokenized, statistics, length histogram. */
export async function previewDataset(cellId: string): Promise<void> {
  const s = store.getState();
  const cell = s.doc?.cells.find((c) => c.id === cellId);
  if (!cell || cell.kind !== 'dataset') return;
  const configHash = hashValue(configOf(cell));
  s.setPreview(cellId, { loading: true, error: null });
  try {
    const result = await getApi().call('dataset.preview', { dataset: cell.dataset as never, tokenizer: cell.tokenizer as never, experimentPath: s.path, samples: 5 });
    store.getState().setPreview(cellId, { loading: false, result, configHash });
    // the summary (not the samples' text) is the cell's output: the document keeps it
    const { samples: _samples, ...summary } = result;
    store.getState().recordOutput((doc) => updateCell(doc, cellId, (c) => (c.kind === 'dataset' ? { ...c, summary: { ...summary, configHash, at: new Date().toISOString() } } : c)));
  } catch (err) {
    store.getState().setPreview(cellId, { loading: false, error: errorMessage(err), configHash });
  }
}

export async function restartEngine(): Promise<void> {
  try {
    store.getState().setEngine(await getApi().call('engine.restart', {}));
    store.getState().dismissBanner('engine-crashed');
  } catch (err) {
    store.getState().showBanner({ tone: 'error', title: 'Could not restart the engine', message: errorMessage(err) });
  }
}

/** Writes (or updates) the run reference in the cell's outputs, which the document saves. */
function recordRun(cellId: string, ref: RunRefT): void {
  store.getState().recordOutput((doc) => updateCell(doc, cellId, (c) => {
    if (c.kind !== 'pretrain') return c;
    const runs = c.runs ?? [];
    const at = runs.findIndex((r) => r.runId === ref.runId);
    return { ...c, runs: at < 0 ? [...runs, ref] : runs.map((r, i) => (i === at ? { ...r, ...ref } : r)) };
  }));
}

const resolving = new Set<string>();

/**
 * A job this window did not start (another window, or before a reload) is known by its id only until
 * its run shows up: the run folder still 'running' that no known job claims is its run.
 */
async function adoptForeignJob(jobId: string): Promise<void> {
  if (resolving.has(jobId)) return;
  resolving.add(jobId);
  await refreshHistory();
  const s = store.getState();
  const claimed = new Set(Object.values(s.jobs).map((j) => j.runId));
  const open = s.history.filter((r) => r.ok && r.run.status === 'running' && !claimed.has(r.id));
  if (open.length === 1 && !s.jobs[jobId]?.runId) onRunEvents(jobId, [{ type: 'status', status: 'running', runId: open[0].id, runDir: open[0].dir }]);
  else resolving.delete(jobId);
}

function onRunEvents(jobId: string, events: RunEvent[]): void {
  const before = store.getState().jobs[jobId];
  store.getState().applyRunEvents(jobId, events);
  let job = store.getState().jobs[jobId];
  if (!job.cellId && job.runId) {
    const owner = store.getState().doc?.cells.find((c) => c.kind === 'pretrain' && (c.runs ?? []).some((r) => r.runId === job.runId));
    if (owner) { store.getState().assignJob(jobId, owner.id); job = store.getState().jobs[jobId]; }
  }
  if (!job.runId) void adoptForeignJob(jobId);
  // every step's numbers go to the dashboards' buffer, outside React; the store keeps the latest only
  if (job.runId) ingestRunEvents(job.runId, events);
  // a new run folder: list it (the sidebar's runs, the crash banner's resumable run)
  if (job.runId && before?.runId !== job.runId && !resolving.has(jobId)) void refreshHistory();
  if (job.cellId && job.runId && (before?.runId !== job.runId || before?.status !== job.status)) {
    recordRun(job.cellId, { runId: job.runId, status: job.status === 'preparing' ? 'running' : job.status, step: job.step });
  }
}

/** Subscribes the store to the host's events; returns the unsubscriber. */
export function wireEvents(onMenuCommand: (command: string, args: string[]) => void): () => void {
  const api = getApi();
  const offs = [
    api.on('onRunEvents', (p) => onRunEvents(p.jobId, p.events)),
    api.on('onJobEnded', (p) => {
      store.getState().jobEnded(p);
      const job = store.getState().jobs[p.jobId];
      if (job?.cellId && job.runId) {
        recordRun(job.cellId, { runId: job.runId, status: job.status, step: job.step, finalTrainLoss: job.trainLoss, finalValLoss: job.valLoss });
      }
      void refreshHistory().then(() => {
        if (p.outcome !== 'failed' || !p.error) return;
        const run = store.getState().history.find((r) => r.id === job?.runId);
        // a run left 'interrupted' died with its engine: say what is safe and offer to resume it
        if (run?.ok && run.run.status === 'interrupted') store.getState().showBanner({ id: 'engine-crashed', tone: 'error', title: 'The engine stopped during a run', message: p.error.message });
        else store.getState().showBanner({ id: `job-${p.jobId}`, tone: 'error', title: `Run ${job?.runId ?? p.jobId} failed`, message: p.error.message });
      });
    }),
    api.on('onEngineStatus', (status) => {
      const s = store.getState();
      s.setEngine(status);
      if (status.state === 'crashed') {
        s.showBanner({ id: 'engine-crashed', tone: 'error', title: 'The engine crashed', message: status.lastExit ?? undefined });
        for (const j of Object.values(s.jobs)) if (j.ended === null) s.jobEnded({ jobId: j.jobId, outcome: 'failed', error: { code: 'INTERNAL', message: 'the engine crashed' } });
        void refreshHistory();
      }
    }),
    api.on('onMenuCommand', (p) => onMenuCommand(p.command, p.args ?? [])),
  ];
  api.call('engine.status', {}).then((st) => store.getState().setEngine(st), () => { /* the socket reports it */ });
  return () => offs.forEach((off) => off());
}

/** The newest run of a cell that can be resumed (interrupted or stopped), for the crash banner. */
export function resumableRun(): { runDir: string; cellId: string; runId: string } | null {
  const s = store.getState();
  if (!s.doc) return null;
  for (const cell of s.doc.cells) {
    if (cell.kind !== 'pretrain') continue;
    const ids = new Set((cell.runs ?? []).map((r) => r.runId));
    const h = s.history.find((r) => r.ok && ids.has(r.id) && ['interrupted', 'paused', 'cancelled', 'failed', 'running'].includes(r.run.status));
    if (h) return { runDir: h.dir, cellId: cell.id, runId: h.id };
  }
  return null;
}

