import { BROWN_GENRES, findBrownGenre } from '../../common/datasetConfig';
import type { DatasetSummary } from '../../common/datasetConfig';
import type { DatasetPreview } from '../../common/workbenchApi';
import { type CellInput, configOf } from '../lib/cellConfig';
import { compact } from '../lib/format';
import { hashValue } from '../lib/hash';
import { previewDataset } from '../session/runs';
import { useStore } from '../state/store';
import { ConfigPanel } from './ConfigPanel';
import { Checkbox, Field, NumberInput, Section, Select, TextInput } from './fields';
import { Histogram } from './Histogram';
import { useCellConfig } from './useCellConfig';

type DatasetCellT = Extract<CellInput, { kind: 'dataset' }>;

const SOURCE_KINDS = [
  { value: 'brown', label: 'Brown corpus (bundled)' },
  { value: 'file', label: 'Text file' },
  { value: 'folder', label: 'Folder of text files' },
  { value: 'jsonl', label: 'JSON Lines file' },
] as const;
const UNITS = ['file', 'paragraph', 'line'] as const;

function DatasetForm({ cell }: { cell: DatasetCellT }) {
  const { get, set, error } = useCellConfig(cell);
  const source = ['dataset', 'source'];
  const kind = get([...source, 'kind']) as string;
  const genres = (get([...source, 'genres']) as string[] | undefined) ?? null;
  const selected = new Set((genres ?? []).map((g) => findBrownGenre(g)?.code ?? g));
  const tokKind = get(['tokenizer', 'kind']) as string;
  const num = (path: (string | number)[], label: string, hint?: string, placeholder?: string) => (
    <Field label={label} hint={hint} error={error(path)}>
      <NumberInput value={get(path)} placeholder={placeholder} onChange={(v) => set(path, v)} />
    </Field>
  );

  const setKind = (k: string | undefined) => {
    if (!k || k === kind) return;
    set(source, k === 'brown' ? { kind: 'brown' } : k === 'jsonl' ? { kind: k, path: '', textField: 'text' } : { kind: k, path: '' });
  };
  const toggleGenre = (code: string) => {
    const all = BROWN_GENRES.map((g) => g.code);
    const cur = genres === null ? new Set(all) : new Set(selected);
    if (cur.has(code)) cur.delete(code); else cur.add(code);
    const list = all.filter((c) => cur.has(c)).map((c) => BROWN_GENRES.find((g) => g.code === c)!.category);
    set([...source, 'genres'], list.length === all.length ? undefined : list);
  };

  return (
    <div className="form">
      <Section title="Source">
        <Field label="Kind" error={error([...source, 'kind'])}>
          <Select value={kind} options={SOURCE_KINDS} onChange={setKind} />
        </Field>
        {kind !== 'brown' && (
          <Field label="Path" wide hint="absolute, or relative to the experiment file's folder" error={error([...source, 'path'])}>
            <TextInput value={get([...source, 'path'])} placeholder={kind === 'folder' ? 'data/corpus/' : kind === 'jsonl' ? 'data/docs.jsonl' : 'data/input.txt'} onChange={(v) => set([...source, 'path'], v ?? '')} />
          </Field>
        )}
        {(kind === 'file' || kind === 'folder') && (
          <Field label="Document unit" hint="how the text is cut into documents">
            <Select value={get([...source, 'unit'])} options={UNITS} placeholder={kind === 'file' ? 'paragraph (default)' : 'file (default)'} onChange={(v) => set([...source, 'unit'], v)} />
          </Field>
        )}
        {kind === 'folder' && (
          <Field label="Extensions" hint="comma separated" error={error([...source, 'extensions'], true)}>
            <TextInput value={(get([...source, 'extensions']) as string[] | undefined)?.join(', ')} placeholder=".txt, .md, .text"
              onChange={(v) => set([...source, 'extensions'], v ? v.split(',').map((x) => x.trim()).filter(Boolean) : undefined)} />
          </Field>
        )}
        {kind === 'jsonl' && <>
          <Field label="Text field"><TextInput value={get([...source, 'textField'])} placeholder="text" onChange={(v) => set([...source, 'textField'], v)} /></Field>
          <Field label="Label field"><TextInput value={get([...source, 'labelField'])} placeholder="(none)" onChange={(v) => set([...source, 'labelField'], v)} /></Field>
        </>}
        {kind === 'brown' && (
          <div className="field field-wide">
            <span className="field-label">Genres <span className="muted">({genres === null ? 'all 15' : `${selected.size} of 15`})</span>
              {genres !== null && <button className="link" onClick={() => set([...source, 'genres'], undefined)}>all</button>}
            </span>
            <div className="chips">
              {BROWN_GENRES.map((g) => (
                <button key={g.code} className={genres === null || selected.has(g.code) ? 'chip on' : 'chip'} title={g.name} onClick={() => toggleGenre(g.code)}>{g.category.replace('_', ' ')}</button>
              ))}
            </div>
            {error([...source, 'genres'], true) && <span className="field-message">{error([...source, 'genres'], true)}</span>}
          </div>
        )}
      </Section>
      <Section title="Cleaning">
        <div className="checks field-wide">
          <Checkbox label="Strip HTML" value={get(['dataset', 'cleaning', 'stripHtml'])} fallback onChange={(v) => set(['dataset', 'cleaning', 'stripHtml'], v)} />
          <Checkbox label="Normalize white space" value={get(['dataset', 'cleaning', 'normalizeWhitespace'])} fallback onChange={(v) => set(['dataset', 'cleaning', 'normalizeWhitespace'], v)} />
          <Checkbox label="Drop exact duplicates" value={get(['dataset', 'cleaning', 'dedupeExact'])} fallback onChange={(v) => set(['dataset', 'cleaning', 'dedupeExact'], v)} />
          <Checkbox label="Drop near-duplicates (MinHash)" value={get(['dataset', 'cleaning', 'dedupeNear', 'enabled'])} fallback onChange={(v) => set(['dataset', 'cleaning', 'dedupeNear', 'enabled'], v)} />
        </div>
        {num(['dataset', 'cleaning', 'dedupeNear', 'threshold'], 'Near-dup threshold', 'Jaccard similarity', '0.8')}
        {num(['dataset', 'cleaning', 'minChars'], 'Min characters', undefined, '20')}
        {num(['dataset', 'cleaning', 'maxChars'], 'Max characters', undefined, 'no limit')}
      </Section>
      <Section title="Split">
        {num(['dataset', 'validationFraction'], 'Validation fraction', undefined, '0.1')}
        <Field label="Split by"><Select value={get(['dataset', 'split'])} options={['documents', 'tail'] as const} placeholder="documents (default)" onChange={(v) => set(['dataset', 'split'], v)} /></Field>
        {num(['dataset', 'seed'], 'Seed', undefined, '0')}
      </Section>
      <Section title="Tokenizer">
        <Field label="Kind" error={error(['tokenizer', 'kind'])}>
          <Select value={tokKind} options={[{ value: 'char', label: 'Characters' }, { value: 'bpe', label: 'Byte-level BPE (GPT-2)' }, { value: 'wordpiece', label: 'WordPiece (BERT)' }] as const}
            onChange={(k) => k && k !== tokKind && set(['tokenizer'], k === 'char' ? { kind: 'char' } : { kind: k, vocabSize: 8000 })} />
        </Field>
        {tokKind !== 'char' && num(['tokenizer', 'vocabSize'], 'Vocabulary size', undefined, '8000')}
        {tokKind !== 'char' && num(['tokenizer', 'minFrequency'], 'Min pair frequency', undefined, '2')}
        {tokKind === 'wordpiece' && <Checkbox label="Lowercase" value={get(['tokenizer', 'lowercase'])} fallback onChange={(v) => set(['tokenizer', 'lowercase'], v)} />}
        {tokKind === 'char' && <Checkbox label="Special tokens" value={get(['tokenizer', 'specials'])} onChange={(v) => set(['tokenizer', 'specials'], v)} />}
      </Section>
    </div>
  );
}

/** A preview's statistics, cleaning report and histogram; its samples when it has them (a fresh preview). */
function PreviewOutput({ preview }: { preview: DatasetSummary & { samples?: DatasetPreview['samples'] } }) {
  const { stats, cleaning, samples, lengthHistogram } = preview;
  const trainTokens = stats.train.tokens ?? 0;
  const valTokens = stats.validation.tokens ?? 0;
  return (
    <div className="preview">
      <div className="stat-row">
        <Stat label="documents read" value={compact(stats.documentsRead)} />
        <Stat label="after cleaning" value={compact(cleaning.documentsOut)} />
        <Stat label="train / val documents" value={`${compact(stats.train.documents)} / ${compact(stats.validation.documents)}`} />
        <Stat label="train / val tokens" value={`${compact(trainTokens)} / ${compact(valTokens)}`} />
        <Stat label="vocabulary" value={compact(preview.vocabSize)} />
      </div>
      <div className="preview-grid">
        <div>
          <h4>Cleaning</h4>
          <table className="table">
            <thead><tr><th>step</th><th className="num">in</th><th className="num">removed</th><th className="num">changed</th></tr></thead>
            <tbody>
              {cleaning.steps.map((s) => (
                <tr key={s.step} className={s.enabled ? '' : 'muted'} title={s.detail}>
                  <td>{s.step}</td><td className="num">{s.documentsIn}</td><td className="num">{s.enabled ? s.documentsRemoved : 'off'}</td><td className="num">{s.enabled ? s.documentsChanged : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h4>Document length (tokens)</h4>
          <Histogram bounds={lengthHistogram.bounds} counts={lengthHistogram.counts} />
        </div>
      </div>
      {!samples && <p className="muted">Samples are not kept in the experiment file; preview again to see documents raw, cleaned and tokenized.</p>}
      {samples && <h4>Samples</h4>}
      {samples && <div className="samples">
        {samples.map((s) => (
          <details key={s.id} className="sample">
            <summary><code>{s.id}</code>{s.label && <span className="tag">{s.label}</span>}<span className="muted ellipsis">{s.cleaned.slice(0, 140)}</span></summary>
            <div className="sample-cols">
              <div><h5>raw</h5><pre>{s.raw.slice(0, 1200)}</pre></div>
              <div><h5>cleaned</h5><pre>{s.cleaned.slice(0, 1200)}</pre></div>
              <div><h5>tokens ({s.tokens.length} shown)</h5><div className="tokens">{s.tokens.map((t, i) => <span key={i} className="token">{t.replace(/ /g, '·').replace(/\n/g, '↵')}</span>)}</div></div>
            </div>
          </details>
        ))}
      </div>}
    </div>
  );
}

/** data-testid stat-<label>, the label in lower case with runs of other characters as '-': stat-train-val-tokens */
const statTestId = (label: string) => `stat-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;

function Stat({ label, value }: { label: string; value: string }) {
  return <div className="stat" data-testid={statTestId(label)}><div className="stat-value mono">{value}</div><div className="stat-label">{label}</div></div>;
}

export function DatasetCell({ cell }: { cell: DatasetCellT }) {
  const preview = useStore((s) => s.previews[cell.id]);
  const saved = useStore((s) => s.savedPreviews[cell.id]);
  // this session's preview, or else the summary kept beside the file from an earlier one
  const shown = preview?.result ?? saved ?? null;
  const shownHash = preview?.result ? preview.configHash : saved?.configHash;
  const stale = shown !== null && shownHash != null && shownHash !== hashValue(configOf(cell));
  return (
    <>
      <ConfigPanel cell={cell} kind="dataset" form={<DatasetForm cell={cell} />} />
      <div className="output">
        <div className="output-head">
          <button className="btn" onClick={() => void previewDataset(cell.id)} disabled={preview?.loading}>{preview?.loading ? 'Reading…' : 'Preview data'}</button>
          {stale && <span className="badge warning" title="the config changed since this preview">stale — preview again</span>}
          {!preview && !shown && <span className="muted">Reads and cleans the data, trains the tokenizer, and shows samples and statistics.</span>}
          {!preview?.result && saved && <span className="muted" title={saved.at}>previewed {new Date(saved.at).toLocaleString()}</span>}
        </div>
        {preview?.error && <div className="inline-error">{preview.error}</div>}
        {shown && <div className={stale ? 'is-stale' : ''}><PreviewOutput preview={shown} /></div>}
      </div>
    </>
  );
}

export { Stat };
