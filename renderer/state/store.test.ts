import { type ExperimentInput, parseExperiment } from '../../common/experiment';
import { type CellInput, newCell, pretrainCellHash, runJsonHash, validateCell } from '../lib/cellConfig';
import { learningRateAt } from '../lib/schedule';
import { updateCell } from './documentSlice';
import { cannotRun, inferredVocab, isCellInvalid, isDirty } from './selectors';
import { useStore } from './store';
// the renderer's dependency-free harness (renderer/ has no Node types)
import { close, deepEqual, equal, ok, test } from '../dashboards/testing';

/** a dataset cell's last preview as the state beside the file keeps it */
const PREVIEW = {
  stats: { source: 'tiny.txt', documentsRead: 1, train: { documents: 1, sentences: 1, chars: 900, tokens: 900 }, validation: { documents: 1, sentences: 1, chars: 100, tokens: 100 }, labels: {}, buildMs: 5 },
  cleaning: { documentsIn: 1, documentsOut: 1, steps: [] },
  lengthHistogram: { bounds: [16], counts: [1] },
  vocabSize: 65,
  configHash: 'h',
  at: '2026-11-25T10:00:00.000Z',
};

const doc = (): ExperimentInput => ({
  format: 'transformer-workbench.experiment', version: 2, name: 't',
  cells: [newCell('dataset', []), newCell('model', []), newCell('pretrain', [])],
});

test('edits are undoable, quick edits of one field merge, and undo keeps run references', () => {
  const s = useStore.getState();
  s.loadDocument(doc(), '/x.experiment.json', 1);
  equal(isDirty(useStore.getState()), false);
  s.editDocument((d) => updateCell(d, 'model', (c) => ({ ...c, title: 'a' })), 'model:title');
  s.editDocument((d) => updateCell(d, 'model', (c) => ({ ...c, title: 'ab' })), 'model:title');
  equal(useStore.getState().past.length, 1);
  equal(isDirty(useStore.getState()), true);
  s.recordOutput((d) => updateCell(d, 'pretrain', (c) => (c.kind === 'pretrain' ? { ...c, runs: [{ runId: 'r1', status: 'running' }] } : c)));
  useStore.getState().undo();
  const after = useStore.getState().doc!;
  equal(after.cells[1].title, undefined);
  const p = after.cells[2];
  deepEqual(p.kind === 'pretrain' ? p.runs : null, [{ runId: 'r1', status: 'running' }]);
  useStore.getState().redo();
  equal(useStore.getState().doc!.cells[1].title, 'ab');
});

test('a dataset preview is kept beside the document, not in it: undo leaves it, and the document stays without it', () => {
  const s = useStore.getState();
  s.loadDocument(doc(), '/x.experiment.json', 1);
  s.editDocument((d) => updateCell(d, 'dataset', (c) => ({ ...c, title: 'corpus' })), 'dataset:title');
  s.setSavedPreview('dataset', { ...PREVIEW, vocabSize: 40 });
  useStore.getState().undo();
  equal(useStore.getState().doc!.cells[0].title, undefined);
  equal(useStore.getState().savedPreviews.dataset?.vocabSize, 40);
  ok(!JSON.stringify(useStore.getState().doc).includes('vocabSize":40'), 'the document has no preview');
  ok(parseExperiment(useStore.getState().doc).ok);
});

test('a run is stale when the configs it started from differ from the current ones', () => {
  const d = doc();
  const now = pretrainCellHash(d.cells, 'pretrain');
  const [ds, m, p] = d.cells as [Extract<typeof d.cells[number], { kind: 'dataset' }>, Extract<typeof d.cells[number], { kind: 'model' }>, Extract<typeof d.cells[number], { kind: 'pretrain' }>];
  // run.json holds the configs with defaults filled in and vocabSize from the tokenizer
  const spec = { name: d.name, dataset: ds.dataset, tokenizer: ds.tokenizer, model: { ...m.model, vocabSize: 8000, positional: 'learned' }, pretrain: p.pretrain };
  const run = (s: typeof spec) => ({ config: { task: 'pretrain', spec: s, baseDir: '/experiments' } });
  equal(runJsonHash(run(spec)), now);
  ok(runJsonHash(run({ ...spec, model: { ...spec.model, nLayers: 6 } })) !== now, 'a changed model makes the run stale');
  equal(runJsonHash({ config: { spec: { ...spec, pretrain: { batchSize: -1 } } } }), null, 'a config that does not parse compares with nothing');
});

test('cell validation reports cross-field problems by path', () => {
  const m = newCell('model', []);
  const bad = m.kind === 'model' ? { ...m, model: { ...m.model, dModel: 130 } } : m;
  deepEqual(validateCell(bad).map((i) => i.path.join('.')), ['nHeads']);
});

test('the LR preview follows nanoGPT get_lr', () => {
  const p = { steps: 2000, optimizer: { lr: 1e-3 }, schedule: { kind: 'cosine', warmupSteps: 100, minLr: 1e-4 } } as Parameters<typeof learningRateAt>[0];
  equal(learningRateAt(p, 0), 1e-3 / 101);
  close(learningRateAt(p, 100), 1e-3, 1e-12);
  close(learningRateAt(p, 1050), 5.5e-4, 1e-9);
  equal(learningRateAt(p, 2001), 1e-4);
});

/** The document with its model and pretrain cells changed. */
function withConfigs(model: Record<string, unknown>, pretrain: Record<string, unknown>): ExperimentInput {
  const d = doc();
  return { ...d, cells: d.cells.map((c): CellInput => (c.kind === 'model' ? { ...c, model: { ...c.model, ...model } as never } : c.kind === 'pretrain' ? { ...c, pretrain: { ...c.pretrain, ...pretrain } as never } : c)) };
}

test('the run guard refuses an objective the model has no head for, in the engine\'s words', () => {
  const s = useStore.getState();
  s.loadDocument(withConfigs({ arch: 'gpt' }, { objective: 'mlm' }), '/x.experiment.json', 1);
  equal(cannotRun(useStore.getState(), 'pretrain'), 'pretrain.objective: a gpt model does not train with mlm; use causal-lm');
  ok(isCellInvalid(useStore.getState(), 'pretrain'), 'the pretrain cell is marked invalid');
  equal(isCellInvalid(useStore.getState(), 'model'), false, 'the model cell itself is fine');
  s.loadDocument(withConfigs({ arch: 'gpt' }, { objective: 'mlm-nsp' }), '/x.experiment.json', 1);
  equal(cannotRun(useStore.getState(), 'pretrain'), 'pretrain.objective: a gpt model does not train with mlm-nsp; use causal-lm');
  s.loadDocument(withConfigs({ arch: 'bert' }, { objective: 'causal-lm' }), '/x.experiment.json', 1);
  equal(cannotRun(useStore.getState(), 'pretrain'), "pretrain.objective: a bert model does not train with causal-lm; use mlm-nsp or 'mlm'");
  // the objective left to the architecture, or one that suits it, runs
  for (const [arch, objective] of [['gpt', undefined], ['gpt', 'causal-lm'], ['bert', undefined], ['bert', 'mlm'], ['bert', 'mlm-nsp']] as const) {
    s.loadDocument(withConfigs({ arch }, { objective }), '/x.experiment.json', 1);
    equal(cannotRun(useStore.getState(), 'pretrain'), null, `${arch} with ${objective ?? 'its default'}`);
  }
});

test('the run guard refuses sequences longer than the model\'s context', () => {
  const s = useStore.getState();
  s.loadDocument(withConfigs({ contextLength: 32 }, { seqLen: 64 }), '/x.experiment.json', 1);
  equal(cannotRun(useStore.getState(), 'pretrain'), "pretrain.seqLen 64 exceeds the model's contextLength 32; lower seqLen or raise contextLength");
  s.loadDocument(withConfigs({ contextLength: 32 }, { seqLen: 32 }), '/x.experiment.json', 1);
  equal(cannotRun(useStore.getState(), 'pretrain'), null);
});

test('a pretrain cell trains from the cells above it, as the host does', () => {
  const s = useStore.getState();
  const d = doc();
  // the model cell moved below the pretrain cell
  s.loadDocument({ ...d, cells: [d.cells[0], d.cells[2], d.cells[1]] }, '/x.experiment.json', 1);
  equal(cannotRun(useStore.getState(), 'pretrain'), 'add a model cell above it');
});

test('a reopened model cell takes its vocabulary from the dataset cell\'s saved preview, as from a live one', () => {
  // a char-level dataset previewed before the reload: 65 characters (tinyshakespeare), kept beside the file
  const d = doc();
  const ds = d.cells[0];
  if (ds.kind === 'dataset') ds.tokenizer = { kind: 'char' };
  useStore.getState().loadWorkbenchState({ previews: { dataset: PREVIEW }, overlay: {} });
  useStore.getState().loadDocument(d, '/x.experiment.json', 1);
  deepEqual(inferredVocab(useStore.getState(), 'model'), { vocab: 65, exact: true, from: 'the previewed tokenizer' });
});
