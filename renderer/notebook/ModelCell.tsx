import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { resolveModelConfig, type ModelConfig } from '../../common/modelConfig';
import { memoryEstimate, modelStats } from '../../common/modelStats';
import { type CellInput, parsedConfig } from '../lib/cellConfig';
import { bytes, compact } from '../lib/format';
import { inferredVocab, type InferredVocab } from '../state/selectors';
import { useStore } from '../state/store';
import { ArchitectureDiagram } from './ArchitectureDiagram';
import { ConfigPanel } from './ConfigPanel';
import { Stat } from './DatasetCell';
import { Checkbox, Field, NumberInput, Section, Select } from './fields';
import { useCellConfig } from './useCellConfig';

type ModelCellT = Extract<CellInput, { kind: 'model' }>;

/** The vocabulary the model will get when its cell leaves vocabSize out (selectors' inferredVocab). */
function useInferredVocab(cellId: string): InferredVocab {
  return useStore(useShallow((s) => inferredVocab(s, cellId)));
}

/** Batch shape for the memory estimate: from the pretrain cell below, else nanoGPT's defaults. */
function useBatchShape(): { batch: number; seqLen: number | undefined } {
  return useStore(useShallow((s) => {
    const p = s.doc?.cells.find((c) => c.kind === 'pretrain');
    const cfg = p?.kind === 'pretrain' ? parsedConfig('pretrain', p.pretrain) : null;
    return { batch: cfg?.batchSize ?? 12, seqLen: cfg?.seqLen };
  })) as { batch: number; seqLen: number | undefined };
}

function ModelForm({ cell, vocabHint }: { cell: ModelCellT; vocabHint: string }) {
  const { get, set, error } = useCellConfig(cell);
  const num = (path: string[], label: string, hint?: string, placeholder?: string) => (
    <Field label={label} hint={hint} error={error(path)}>
      <NumberInput value={get(path)} placeholder={placeholder} onChange={(v) => set(path, v)} />
    </Field>
  );
  const moe = get(['moe']) as { experts?: number; topK?: number } | undefined;
  const d = Number(get(['dModel'])) || 0;
  return (
    <div className="form">
      <Section title="Shape">
        <Field label="Architecture" error={error(['arch'])}>
          <Select value={get(['arch'])} options={[{ value: 'gpt', label: 'GPT (decoder, pre-LN)' }, { value: 'bert', label: 'BERT (encoder, post-LN)' }] as const} onChange={(v) => set(['arch'], v)} />
        </Field>
        {num(['nLayers'], 'Layers')}
        {num(['dModel'], 'Width (dModel)')}
        {num(['nHeads'], 'Heads', 'must divide dModel')}
        {num(['dFF'], 'Feed-forward width', undefined, d ? `${4 * d} (4 × dModel)` : '4 × dModel')}
        {num(['contextLength'], 'Context length')}
        {num(['vocabSize'], 'Vocabulary', undefined, vocabHint)}
      </Section>
      <Section title="Layers">
        <Field label="Positions"><Select value={get(['positional'])} options={['learned', 'sinusoidal', 'rope'] as const} placeholder="learned (default)" onChange={(v) => set(['positional'], v)} /></Field>
        <Field label="Attention"><Select value={get(['attention'])} options={['softmax', 'linear'] as const} placeholder="softmax (default)" onChange={(v) => set(['attention'], v)} /></Field>
        <Field label="Activation"><Select value={get(['activation'])} options={['gelu_new', 'gelu'] as const} placeholder="by architecture" onChange={(v) => set(['activation'], v)} /></Field>
        {num(['dropout'], 'Dropout', undefined, '0')}
        <div className="field field-wide">
          <Checkbox label="Mixture of experts" value={moe !== undefined} onChange={(on) => set(['moe'], on ? { experts: 4, topK: 2 } : undefined)} />
          {error(['moe'], true) && <span className="field-message">{error(['moe'], true)}</span>}
        </div>
        {moe && num(['moe', 'experts'], 'Experts')}
        {moe && num(['moe', 'topK'], 'Top-k')}
      </Section>
    </div>
  );
}

export function ModelCell({ cell }: { cell: ModelCellT }) {
  const inferred = useInferredVocab(cell.id);
  const { batch, seqLen } = useBatchShape();
  const parsed = parsedConfig('model', cell.model);
  const config: ModelConfig | null = parsed ? { ...parsed, vocabSize: parsed.vocabSize ?? inferred.vocab } as ModelConfig : null;
  const stats = useMemo(() => (config ? modelStats(config) : null), [config && JSON.stringify(config)]); // eslint-disable-line react-hooks/exhaustive-deps
  const mem = useMemo(() => (config ? memoryEstimate(config, batch, seqLen ?? config.contextLength) : null), [stats, batch, seqLen]); // eslint-disable-line react-hooks/exhaustive-deps
  const approx = parsed?.vocabSize === undefined && !inferred.exact ? '≈ ' : '';

  const side = config && stats && mem ? (
    <div className="model-side">
      <div className="stat-grid">
        <Stat label="parameters" value={approx + compact(stats.parameters)} />
        <Stat label="non-embedding" value={compact(stats.nonEmbeddingParameters)} />
        <Stat label="forward FLOPs / token" value={approx + compact(stats.forwardFlopsPerToken)} />
        <Stat label="training FLOPs / token" value={approx + compact(stats.trainingFlopsPerToken)} />
        <Stat label={`training memory (batch ${batch})`} value={bytes(mem.total)} />
        <Stat label="weights + Adam" value={bytes(mem.parameters + mem.gradients + mem.optimizer)} />
      </div>
      {parsed?.vocabSize === undefined && <p className="muted small">Vocabulary {compact(inferred.vocab)} from {inferred.from}.</p>}
      <ArchitectureDiagram config={resolveModelConfig(config)} />
    </div>
  ) : <div className="model-side muted">Statistics and diagram appear when the config is valid.</div>;

  return <ConfigPanel cell={cell} kind="model" form={<ModelForm cell={cell} vocabHint={`${compact(inferred.vocab)} (from tokenizer)`} />} side={side} />;
}
