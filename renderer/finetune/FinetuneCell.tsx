import { useShallow } from 'zustand/react/shallow';
import { LoraConfig } from '../../common/finetuneConfig';
import { runConfigOf } from '../../common/runConfig';
import { runColors } from '../dashboards';
import type { CellInput } from '../lib/cellConfig';
import { ConfigPanel } from '../notebook/ConfigPanel';
import { Field, NumberInput, Section, Select, TextInput } from '../notebook/fields';
import { JobStatus } from '../notebook/PretrainCell';
import { RunCharts, type ShownRun } from '../notebook/RunCharts';
import { useCellConfig } from '../notebook/useCellConfig';
import { activeJobOf, useOverlaidRuns } from '../state/selectors';
import { useStore } from '../state/store';
import { AccuracyChart } from './AccuracyChart';
import { trainableShareText } from './classificationFormat';
import { ClassificationView } from './ClassificationView';
import { ClassifierExport } from './ClassifierExport';
import { FinetuneRunsTable } from './FinetuneRunsTable';
import { LoraTargets } from './LoraTargets';
import './finetune.css';

const DEFAULT_RANK = LoraConfig.parse({}).r;

type FinetuneCellT = Extract<CellInput, { kind: 'finetune' }>;

/** The runs a fine-tune can start from: this experiment's runs with a checkpoint (pretrained, imported, fine-tuned). */
function useBaseRuns(): { id: string; label: string }[] {
  return useStore(useShallow((s) => s.history.flatMap((r) => (r.ok && r.run.lastCheckpoint !== null
    ? [`${r.id}\u0000${runConfigOf(r.run)?.task ?? 'run'} · ${r.run.status} · step ${r.run.step}`] : []))))
    .map((k) => { const [id, label] = k.split('\u0000'); return { id, label: `${id} (${label})` }; });
}

type CellConfig = Pick<ReturnType<typeof useCellConfig>, 'get' | 'set' | 'error'>;

function NumberField({ cfg, path, label, placeholder, hint }: { cfg: CellConfig; path: string[]; label: string; placeholder?: string; hint?: string }) {
  return <Field label={label} hint={hint} error={cfg.error(path)}><NumberInput value={cfg.get(path)} placeholder={placeholder} onChange={(v) => cfg.set(path, v)} /></Field>;
}

/**
 * LoRA's target modules: the picker over the base run's real module names (counts, suggestions for a typo, the
 * trainable share) once a base run is picked; before that, the patterns as text.
 */
function TargetModules({ cfg, baseRunId }: { cfg: CellConfig; baseRunId: string | undefined }) {
  const experimentPath = useStore((s) => s.path);
  const path = ['finetune', 'lora', 'targetModules'];
  const patterns = cfg.get(path) as string[] | undefined;
  const r = (cfg.get(['finetune', 'lora', 'r']) as number | undefined) ?? DEFAULT_RANK;
  const onChange = (next: string[] | undefined) => cfg.set(path, next);
  const problem = cfg.error(path, true);
  if (experimentPath && baseRunId) {
    return (
      <div className="field field-wide">
        <LoraTargets run={{ experimentPath, runId: baseRunId }} patterns={patterns} r={r} onChange={onChange} />
        {problem && <span className="field-message">{problem}</span>}
      </div>
    );
  }
  return (
    <Field label="Target modules" error={problem} hint="name patterns, comma-separated; empty: the attention projections">
      <TextInput value={(patterns ?? []).join(', ')} placeholder="pick a base run to list its modules; e.g. query, value"
        onChange={(v) => onChange(v ? v.split(',').map((x) => x.trim()).filter(Boolean) : undefined)} />
    </Field>
  );
}

function FinetuneForm({ cell }: { cell: FinetuneCellT }) {
  const { get, set, error } = useCellConfig(cell);
  const bases = useBaseRuns();
  const dataKind = get(['finetune', 'data', 'kind']) as string | undefined;
  const method = get(['finetune', 'method']) as 'full' | 'lora' | undefined;
  const cfg = { get, set, error };
  const num = (path: string[], label: string, placeholder?: string, hint?: string) => <NumberField cfg={cfg} path={path} label={label} placeholder={placeholder} hint={hint} />;
  return (
    <div className="form">
      <Section title="Start from">
        <Field label="Base run" error={error(['baseRunId'])} hint="a run of this experiment with a checkpoint">
          <Select value={get(['baseRunId'])} options={bases.map((b) => ({ value: b.id, label: b.label }))} placeholder="— pick a run —" onChange={(v) => set(['baseRunId'], v)} />
        </Field>
        <Field label="Checkpoint" error={error(['checkpoint'])} hint="last, best or step-N">
          <TextInput value={get(['checkpoint'])} placeholder="last" onChange={(v) => set(['checkpoint'], v)} />
        </Field>
        <Field label="Weights"><Select value={get(['finetune', 'init'])} options={['pretrained', 'scratch'] as const} placeholder="pretrained (default)" onChange={(v) => set(['finetune', 'init'], v)} /></Field>
      </Section>
      <Section title="Task">
        <Field label="Data" error={error(['finetune', 'data'], true)}>
          <Select value={dataKind} options={['brown-genre', 'jsonl'] as const} onChange={(v) => set(['finetune', 'data'], v === 'jsonl' ? { kind: 'jsonl', file: '' } : { kind: 'brown-genre' })} />
        </Field>
        {dataKind === 'jsonl' && (
          <Field label="JSON Lines file" error={error(['finetune', 'data', 'file'])} hint='one {"text", "label"} or {"text", "text_pair", "label"} per line'>
            <TextInput value={get(['finetune', 'data', 'file'])} placeholder="/path/to/task.jsonl" onChange={(v) => set(['finetune', 'data', 'file'], v ?? '')} />
          </Field>
        )}
        {dataKind === 'brown-genre' && num(['finetune', 'data', 'passageTokens'], 'Passage tokens', 'context length')}
        {dataKind === 'brown-genre' && num(['finetune', 'data', 'passagesPerDocument'], 'Passages per text', 'all')}
        {num(['finetune', 'data', 'testShare'], 'Test share', '0.2', dataKind === 'brown-genre' ? 'of each genre\'s texts' : 'of each label\'s lines')}
      </Section>
      <Section title="Method">
        <Field label="Method" error={error(['finetune', 'method'])}><Select value={method} options={['full', 'lora'] as const} placeholder="lora (default)" onChange={(v) => set(['finetune', 'method'], v)} /></Field>
        {method === 'lora' && <>
          {num(['finetune', 'lora', 'r'], 'LoRA rank', '8')}
          {num(['finetune', 'lora', 'alpha'], 'LoRA alpha', '16')}
          {num(['finetune', 'lora', 'dropout'], 'LoRA dropout', '0.05')}
          <TargetModules cfg={cfg} baseRunId={get(['baseRunId']) as string | undefined} />
        </>}
        <p className="muted trainable-share" data-testid="trainable-share">{trainableShareText(method ?? 'lora', null)}</p>
      </Section>
      <Section title="Training">
        {num(['finetune', 'loop', 'steps'], 'Steps', '300')}
        {num(['finetune', 'loop', 'batchSize'], 'Batch size', '16')}
        {num(['finetune', 'loop', 'optimizer', 'lr'], 'Peak learning rate', '0.0005')}
        {num(['finetune', 'loop', 'schedule', 'warmupSteps'], 'Warmup steps', '30')}
        {num(['finetune', 'loop', 'evalInterval'], 'Evaluate every', '50')}
        {num(['finetune', 'maxEvalExamples'], 'Test examples per evaluation', '1024')}
      </Section>
    </div>
  );
}

/** What changes when a run's evaluation file may have: its live status and last validation loss, and whether it is listed. */
function runVersion(s: ReturnType<typeof useStore.getState>, runId: string): string {
  return `${s.jobs[runId]?.status ?? ''}:${s.jobs[runId]?.valLoss ?? ''}:${s.history.some((h) => h.id === runId && h.ok) ? 'listed' : ''}`;
}

/**
 * The fine-tune cell: a base run and checkpoint, the task (Brown genres or a JSON Lines file), full or LoRA
 * fine-tuning; Run starts a derived run whose dashboard is any run's, with test accuracy and macro-F1
 * beside it, and the per-class figures and confusion matrix of the run picked (the newest by default).
 */
export function FinetuneCell({ cell }: { cell: FinetuneCellT }) {
  const job = useStore((s) => activeJobOf(s, cell.id));
  const path = useStore((s) => s.path);
  const jobs = useStore((s) => s.jobs);
  const history = useStore((s) => s.history);
  const overlaid = useOverlaidRuns(cell.id);
  const runIds = (cell.runs ?? []).map((r) => r.runId);
  const colors = runColors(runIds, overlaid);
  const shown = overlaid.flatMap((runId): ShownRun[] => {
    const live = jobs[runId]?.ended === null;
    const known = live || jobs[runId] !== undefined || history.some((x) => x.id === runId);
    return known ? [{ runId, live, label: live ? `${runId} (live)` : undefined }] : [];
  });
  const reportRun = shown[0]?.runId;
  // the report and the table are read again whenever a run evaluates, ends or is listed
  const reportVersion = useStore((s) => (reportRun ? runVersion(s, reportRun) : ''));
  const runsVersion = useStore((s) => runIds.map((id) => runVersion(s, id)).join('|'));
  return (
    <>
      <ConfigPanel cell={cell} kind="finetune" form={<FinetuneForm cell={cell} />} />
      <div className="output">
        {job && <JobStatus job={job} />}
        {shown.length > 0 && <RunCharts runs={shown} colors={colors} />}
        {shown.length > 0 && <AccuracyChart runIds={shown.map((r) => r.runId)} colors={colors} />}
        {path && <FinetuneRunsTable experimentPath={path} runIds={runIds} colors={colors} version={runsVersion} />}
        {path && reportRun && <ClassificationView experimentPath={path} runId={reportRun} version={reportVersion} />}
        {reportRun && <ClassifierExport runId={reportRun} />}
        {!runIds.length && <p className="muted">No runs yet. Pick a base run and Run the cell (Shift+Enter) to fine-tune it; runs are kept beside the experiment file.</p>}
      </div>
    </>
  );
}
