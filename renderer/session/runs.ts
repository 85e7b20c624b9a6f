import type { z } from 'zod';
import type { RunRef } from '../../common/experiment';
import { runConfigOf } from '../../common/runConfig';
import type { RunEvent } from '../../common/runEvents';
import { errorMessage, getApi } from '../api';
import { ingestRunEvents } from '../dashboards';
import { configOf, pretrainCellHash } from '../lib/cellConfig';
import { hashValue } from '../lib/hash';
import { updateCell } from '../state/documentSlice';
import { cellOfRun } from '../state/runSelection';
import type { RunListItem } from '../state/runsSlice';
import { activeJobOf, cannotRun, isDirty } from '../state/selectors';
import { useStore } from '../state/store';
import { saveExperiment } from './documents';
import { runFinetuneCell } from '../finetune/runFinetune';

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
    adoptExportedRuns(list);
  } catch (err) {
    store.getState().setHistory([], errorMessage(err));
  }
}

/**
 * Runs trained elsewhere from a cell of this experiment (PyTorch, by the project `workbench export-torch` wrote;
 * run.json names the cell) join that cell's runs, so that its dashboard overlays them with the workbench's own.
 */
function adoptExportedRuns(list: RunListItem[]): void {
  const s = store.getState();
  for (const r of list) {
    const config = r.ok ? runConfigOf(r.run) : null;
    const cellId = config?.task === 'pretrain' ? config.trainedBy?.cellId : undefined;
    if (!r.ok || !cellId || cellOfRun(s, r.id) || !s.doc?.cells.some((c) => c.id === cellId && c.kind === 'pretrain')) continue;
    recordRun(cellId, { runId: r.id, status: r.run.status, step: r.run.step });
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
  if (cell.kind === 'finetune') return runFinetuneCell(cellId);
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
    const { runId } = await getApi().call('runs.start', { experimentPath: store.getState().path!, cellId });
    started(runId, cellId, configHash);
  } catch (err) {
    store.getState().showBanner({ id: `run-${cellId}`, tone: 'error', title: `Could not start '${cellId}'`, message: errorMessage(err) });
  }
}

/** A run of this window's experiment has a job now (started or resumed): it is shown, and its reference kept once it has a folder. */
export function started(runId: string, cellId: string, configHash: string | null): void {
  const s = store.getState();
  s.jobStarted(runId, cellId, configHash);
  s.selectRun(null);
  // its first events may have come before the host's answer, when the cell was not known yet
  const job = store.getState().jobs[runId];
  if (job.status !== 'starting') recordRun(cellId, { runId, status: job.status === 'preparing' ? 'running' : job.status, step: job.step });
}

export async function controlRun(cellId: string, action: 'pause' | 'resume' | 'stop'): Promise<void> {
  const s = store.getState();
  const job = activeJobOf(s, cellId);
  if (!job || !s.path) return;
  try {
    await getApi().call('runs.control', { experimentPath: s.path, runId: job.runId, action });
  } catch (err) {
    store.getState().showBanner({ tone: 'error', title: `Could not ${action} the run`, message: errorMessage(err) });
  }
}

/** Continues an interrupted or stopped run from its newest checkpoint. */
export async function resumeRun(runId: string, cellId: string): Promise<void> {
  const path = store.getState().path;
  if (!path) return;
  try {
    await getApi().call('runs.resume', { experimentPath: path, runId });
    const s = store.getState();
    started(runId, cellId, s.doc ? pretrainCellHash(s.doc.cells, cellId) : null);
    // the resumed run is on the dashboard even if it was unticked
    s.setRunOverlaid(cellId, runId, true);
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
    // the summary (not the samples' text) is kept beside the experiment file, not in it: it holds this
    // machine's path of the data and a time
    const { samples: _samples, ...summary } = result;
    store.getState().setSavedPreview(cellId, { ...summary, configHash, at: new Date().toISOString() });
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
    if (c.kind !== 'pretrain' && c.kind !== 'finetune') return c;
    const runs = c.runs ?? [];
    const at = runs.findIndex((r) => r.runId === ref.runId);
    return { ...c, runs: at < 0 ? [...runs, ref] : runs.map((r, i) => (i === at ? { ...r, ...ref } : r)) };
  }));
}

/** the host's events are for every window: this one follows the runs of its own experiment */
const ofThisExperiment = (p: { experimentPath: string }) => p.experimentPath === store.getState().path;

function onRunEvents(runId: string, events: RunEvent[]): void {
  const before = store.getState().jobs[runId];
  store.getState().applyRunEvents(runId, events);
  let job = store.getState().jobs[runId];
  // a run this window did not start (another window, or before a reload): the cell that lists it
  if (!job.cellId) {
    const owner = cellOfRun(store.getState(), runId);
    if (owner) { store.getState().assignJob(runId, owner); job = store.getState().jobs[runId]; }
  }
  // every step's numbers go to the dashboards' buffer, outside React; the store keeps the latest only
  ingestRunEvents(runId, events);
  // a job begins: list the runs again (the sidebar's runs, the crash banner's resumable run)
  const began = !before || before.ended !== null;
  if (began && events.some((e) => e.type === 'status')) void refreshHistory();
  if (job.cellId && job.status !== 'starting' && (began || before.status !== job.status || before.cellId !== job.cellId)) {
    recordRun(job.cellId, { runId, status: job.status === 'preparing' ? 'running' : job.status, step: job.step });
  }
}

/** Subscribes the store to the host's events; returns the unsubscriber. */
export function wireEvents(onMenuCommand: (command: string, args: string[]) => void): () => void {
  const api = getApi();
  const offs = [
    api.on('onRunEvents', (p) => { if (ofThisExperiment(p)) onRunEvents(p.runId, p.events); }),
    api.on('onJobEnded', (p) => {
      if (!ofThisExperiment(p)) return;
      store.getState().jobEnded(p);
      const job = store.getState().jobs[p.runId];
      // a run whose job failed before its folder was made has nothing to refer to
      if (job?.cellId && job.status !== 'starting') {
        recordRun(job.cellId, { runId: p.runId, status: job.status, step: job.step, finalTrainLoss: job.trainLoss, finalValLoss: job.valLoss });
      }
      void refreshHistory().then(() => {
        if (p.outcome !== 'failed' || !p.error) return;
        const run = store.getState().history.find((r) => r.id === p.runId);
        // a run left 'interrupted' died with its engine: say what is safe and offer to resume it
        if (run?.ok && run.run.status === 'interrupted') store.getState().showBanner({ id: 'engine-crashed', tone: 'error', title: 'The engine stopped during a run', message: p.error.message });
        else store.getState().showBanner({ id: `job-${p.runId}`, tone: 'error', title: `Run ${p.runId} failed`, message: p.error.message });
      });
    }),
    api.on('onEngineStatus', (status) => {
      const s = store.getState();
      s.setEngine(status);
      if (status.state === 'crashed') {
        s.showBanner({ id: 'engine-crashed', tone: 'error', title: 'The engine crashed', message: status.lastExit ?? undefined });
        for (const j of Object.values(s.jobs)) if (j.ended === null) s.jobEnded({ runId: j.runId, outcome: 'failed', error: { code: 'INTERNAL', message: 'the engine crashed' } });
        void refreshHistory();
      }
    }),
    api.on('onMenuCommand', (p) => onMenuCommand(p.command, p.args ?? [])),
  ];
  api.call('engine.status', {}).then((st) => store.getState().setEngine(st), () => { /* the socket reports it */ });
  return () => offs.forEach((off) => off());
}

/** The newest run of a cell that can be resumed (interrupted or stopped), for the crash banner. */
export function resumableRun(): { cellId: string; runId: string } | null {
  const s = store.getState();
  if (!s.doc) return null;
  for (const cell of s.doc.cells) {
    if (cell.kind !== 'pretrain') continue;
    const ids = new Set((cell.runs ?? []).map((r) => r.runId));
    const h = s.history.find((r) => r.ok && ids.has(r.id) && ['interrupted', 'paused', 'cancelled', 'failed', 'running'].includes(r.run.status));
    if (h) return { cellId: cell.id, runId: h.id };
  }
  return null;
}

