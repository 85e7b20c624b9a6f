import { useRef, useState, type DragEvent } from 'react';
import { DATA_FOLDER, UPLOAD_MAX_BYTES } from '../../common/dataUpload';
import { BROWN_GENRES, BUILT_IN_CORPORA, findBrownGenre, type CorpusName } from '../../common/datasetConfig';
import type { DatasetSummary } from '../../common/datasetConfig';
import type { DatasetPreview } from '../../common/workbenchApi';
import { type CellInput, configOf } from '../lib/cellConfig';
import { bytes, compact } from '../lib/format';
import { addDataFile, relativeDatasetPath, type AddFileStatus } from '../session/dataFiles';
import { hashValue } from '../lib/hash';
import { previewDataset } from '../session/runs';
import { useStore } from '../state/store';
import { ConfigPanel } from './ConfigPanel';
import { Checkbox, Field, NumberInput, Section, Select, TextInput } from './fields';
import { Histogram } from './Histogram';
import { useCellConfig } from './useCellConfig';

type DatasetCellT = Extract<CellInput, { kind: 'dataset' }>;

const SOURCE_KINDS = [
  { value: 'corpus', label: 'Built-in corpus' },
  { value: 'file', label: 'Text file' },
  { value: 'folder', label: 'Folder of text files' },
  { value: 'jsonl', label: 'JSON Lines file' },
] as const;
const UNITS = ['file', 'paragraph', 'line'] as const;
const CORPORA = (Object.keys(BUILT_IN_CORPORA) as CorpusName[]).map((k) => ({ value: k, label: BUILT_IN_CORPORA[k].title }));
const READINGS = [{ value: 'documents', label: 'Documents with genre labels' }, { value: 'text', label: 'One running text' }] as const;

/** What a built-in corpus holds and under which licence, measured on the package it comes from. */
function CorpusFacts({ corpus }: { corpus: CorpusName }) {
  const c = BUILT_IN_CORPORA[corpus];
  return (
    <div className="corpus-facts field-wide" data-testid="corpus-facts">
      <div>{c.about}.</div>
      <div className="mono small">
        {c.texts} texts · {c.genres} genres · {compact(c.words)} words ({compact(c.tokens)} tagged tokens) · {compact(c.characters)} characters · {bytes(c.packageBytes)} in the package
      </div>
      <div className="muted small">From the npm package <code>{c.package}</code> {c.version}, installed with the workbench. Licence: {c.licence}.</div>
    </div>
  );
}

/**
 * Brings a text file into the experiment through the page: a button with a file picker, and the whole
 * source section as a drop target (the cell passes the drop on). The file goes to data/ beside the saved
 * experiment, and the source then names it.
 */
function AddFile({ cellId, status, onStatus }: { cellId: string; status: AddFileStatus | null; onStatus: (s: AddFileStatus) => void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <div className="add-file field-wide">
      <button type="button" className="btn" onClick={() => input.current?.click()} disabled={status?.state === 'sending'}>Add a text file…</button>
      <input ref={input} type="file" hidden aria-label="Add a text file" accept=".txt,.text,.md,.jsonl,.csv,text/*"
        onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void addDataFile(cellId, f, onStatus); }} />
      <span className="muted small">or drop one here: it is copied to {DATA_FOLDER}/ beside the experiment (UTF-8 text, up to {bytes(UPLOAD_MAX_BYTES)})</span>
      {status && <div className={status.state === 'error' ? 'inline-error' : 'muted small'} role="status" data-testid="add-file-status">
        {status.state === 'waiting' ? `Save the experiment first: ${status.name} then goes to ${DATA_FOLDER}/ beside it.`
          : status.state === 'sending' ? `Adding ${status.name}…` : status.message}
      </div>}
    </div>
  );
}

function DatasetForm({ cell, addStatus, onAddStatus }: { cell: DatasetCellT; addStatus: AddFileStatus | null; onAddStatus: (s: AddFileStatus) => void }) {
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
    set(source, k === 'corpus' ? { kind: 'corpus', corpus: 'brown' } : k === 'jsonl' ? { kind: k, path: '', textField: 'text' } : { kind: k, path: '' });
  };
  // one running text is a single document: only its tail can be held out
  const setReading = (as: string | undefined) => {
    set([...source, 'as'], as);
    if (as === 'text' && get(['dataset', 'split']) !== 'tail') set(['dataset', 'split'], 'tail');
  };
  const storeRelative = (typed: string) => {
    const rel = relativeDatasetPath(typed);
    if (rel !== typed) set([...source, 'path'], rel);
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
        {kind === 'corpus' && <>
          <Field label="Corpus" error={error([...source, 'corpus'])}>
            <Select value={get([...source, 'corpus'])} options={CORPORA} onChange={(v) => v && set([...source, 'corpus'], v)} />
          </Field>
          <Field label="Read as" hint="documents with their genre as label, or all texts as one running text (for a language model; split by tail)" error={error([...source, 'as'])}>
            <Select value={get([...source, 'as'])} options={READINGS} placeholder="documents (default)" onChange={setReading} />
          </Field>
          {BUILT_IN_CORPORA[get([...source, 'corpus']) as CorpusName] && <CorpusFacts corpus={get([...source, 'corpus']) as CorpusName} />}
        </>}
        {kind !== 'corpus' && (
          <Field label="Path" wide hint="relative to the experiment file's folder (an absolute path inside it is stored relative)" error={error([...source, 'path'])}>
            <TextInput value={get([...source, 'path'])} placeholder={kind === 'folder' ? 'data/corpus/' : kind === 'jsonl' ? 'data/docs.jsonl' : 'data/input.txt'}
              onChange={(v) => set([...source, 'path'], v ?? '')} onBlur={storeRelative} />
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
        {kind === 'corpus' && (
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
        <AddFile cellId={cell.id} status={addStatus} onStatus={onAddStatus} />
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
  const [addStatus, setAddStatus] = useState<AddFileStatus | null>(null);
  const [dragging, setDragging] = useState(false);
  const carriesFiles = (e: DragEvent) => e.dataTransfer.types.includes('Files');
  const onDrag = (e: DragEvent) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    setDragging(true);
  };
  const onDrop = (e: DragEvent) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    setDragging(false);
    const files = [...e.dataTransfer.files];
    if (files.length !== 1) { setAddStatus({ state: 'error', message: `drop one file at a time (${files.length} were dropped)` }); return; }
    void addDataFile(cell.id, files[0], setAddStatus);
  };
  return (
    <>
      <div className={dragging ? 'drop-target dragging' : 'drop-target'} onDragEnter={onDrag} onDragOver={onDrag} onDragLeave={() => setDragging(false)} onDrop={onDrop} data-testid="dataset-drop">
        <ConfigPanel cell={cell} kind="dataset" form={<DatasetForm cell={cell} addStatus={addStatus} onAddStatus={setAddStatus} />} />
      </div>
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
