import type { ExperimentInput } from '../../common/experiment';
import { newCell } from '../lib/cellConfig';
import type { RunListItem } from './runsSlice';
import { overlaidRunIds } from './selectors';
import { useStore } from './store';
// the renderer's dependency-free harness (renderer/ has no Node types)
import { deepEqual, equal, test } from '../dashboards/testing';

/** an experiment whose pretrain cell has run these runs, oldest first */
function open(runIds: string[]): void {
  const cells = [newCell('dataset', []), newCell('model', []), newCell('pretrain', [])];
  const pre = cells[2];
  if (pre.kind === 'pretrain') pre.runs = runIds.map((runId) => ({ runId, status: 'completed' }));
  const doc: ExperimentInput = { format: 'transformer-workbench.experiment', version: 2, name: 't', cells };
  useStore.setState({ jobs: {}, selectedRunId: null, runOverlay: {} });
  useStore.getState().loadDocument(doc, '/x.experiment.json', 1);
  useStore.getState().setHistory(runIds.map((id) => ({ ok: false, id, problem: 'not read in this test' }) as RunListItem));
}

/** a run started in this window: its job, its reference in the cell */
function start(runId: string): void {
  const s = useStore.getState();
  s.jobStarted(runId, 'pretrain', null);
  s.applyRunEvents(runId, [{ type: 'status', status: 'running', runId, runDir: `/x.runs/${runId}` }]);
  s.recordOutput((d) => ({ ...d, cells: d.cells.map((c) => (c.kind === 'pretrain' ? { ...c, runs: [...(c.runs ?? []), { runId, status: 'running' }] } : c)) }));
}

const shown = () => overlaidRunIds(useStore.getState(), 'pretrain');
const overlay = (runId: string, on: boolean) => useStore.getState().setRunOverlaid('pretrain', runId, on);

test('a reopened cell shows its newest run; checked runs are overlaid with it, newest first', () => {
  open(['r1', 'r2', 'r3']);
  deepEqual(shown(), ['r3']);
  overlay('r1', true);
  deepEqual(shown(), ['r3', 'r1']);
  overlay('r2', true);
  deepEqual(shown(), ['r3', 'r2', 'r1']);
  // taking the newest off keeps the others: the default does not come back under the user's hand
  overlay('r3', false);
  deepEqual(shown(), ['r2', 'r1']);
  overlay('r2', false); overlay('r1', false);
  deepEqual(shown(), []);
});

test('a live run is shown beside the chosen runs, first, and stays when it ends', () => {
  open(['r1', 'r2']);
  overlay('r1', true);
  start('r3');
  deepEqual(shown(), ['r3', 'r2', 'r1']);
  useStore.getState().jobEnded({ runId: 'r3', outcome: 'done' });
  deepEqual(shown(), ['r3', 'r2', 'r1']);
  overlay('r3', false);
  deepEqual(shown(), ['r2', 'r1']);
  // a later run appears by itself again
  start('r4');
  deepEqual(shown(), ['r4', 'r2', 'r1']);
});

test('with no choices, the runs of this window are overlaid: the first one stays beside the next', () => {
  open([]);
  deepEqual(shown(), []);
  start('r1');
  deepEqual(shown(), ['r1']);
  useStore.getState().jobEnded({ runId: 'r1', outcome: 'cancelled' });
  deepEqual(shown(), ['r1']);
  start('r2');
  deepEqual(shown(), ['r2', 'r1']);
});

test('picking a run in a runs list selects it and puts it on its cell\'s dashboard', () => {
  open(['r1', 'r2']);
  useStore.getState().selectRun('r1');
  equal(useStore.getState().selectedRunId, 'r1');
  deepEqual(shown(), ['r2', 'r1']);
  // picking it again, or picking nothing, changes nothing else
  useStore.getState().selectRun('r1');
  useStore.getState().selectRun(null);
  deepEqual(shown(), ['r2', 'r1']);
});

test('choices made in another experiment with the same cell id do not hide this one\'s newest run', () => {
  open(['a1', 'a2']);
  overlay('a1', true); overlay('a2', false);
  const kept = useStore.getState().runOverlay;
  open(['b1', 'b2']);
  useStore.setState({ runOverlay: kept });
  deepEqual(shown(), ['b2']);
});

test('a run is one handle: a resumed run\'s new job replaces its ended one under the same run id', () => {
  open([]);
  start('r1');
  useStore.getState().applyRunEvents('r1', [{ type: 'step', step: 40, totalSteps: 100, tokens: 1, scalars: { 'train/loss': 2 }, etaSeconds: 1 }]);
  useStore.getState().jobEnded({ runId: 'r1', outcome: 'failed', error: { code: 'INTERNAL', message: 'the engine died' } });
  equal(useStore.getState().jobs.r1.ended, 'failed');
  // the resumed job's first events may come before the host's answer to runs.resume
  useStore.getState().applyRunEvents('r1', [{ type: 'status', status: 'preparing', runId: 'r1', runDir: '/x.runs/r1' }]);
  const job = useStore.getState().jobs.r1;
  equal(job.ended, null);
  equal(job.error, null);
  equal(job.cellId, 'pretrain', 'it stays with its cell:');
  useStore.getState().jobStarted('r1', 'pretrain', 'h');
  equal(useStore.getState().jobs.r1.status, 'preparing', 'the answer keeps what the events said:');
  deepEqual(Object.keys(useStore.getState().jobs), ['r1']);
  deepEqual(shown(), ['r1']);
});
