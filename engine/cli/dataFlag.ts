/**
 * `workbench train --data PATH`: the experiment's dataset read from another file or folder, its source
 * settings kept where they fit. A file source keeps its unit. Otherwise a folder becomes a folder source,
 * a *.jsonl file a jsonl source (the experiment's text field, or 'text'), and any other file a file source
 * cut into paragraphs: one document per file could be split into train and validation only by cutting its
 * tail, and would give next-sentence prediction no other document to draw negative pairs from.
 */
import fs from 'node:fs';
import { DatasetSource } from '../../common/datasetConfig';
import { describeCorpus } from '../data/sources';

/** The source `--data dataPath` (absolute) makes of the experiment's `current` one. */
export function sourceForData(dataPath: string, current: DatasetSource): DatasetSource {
  if (fs.statSync(dataPath).isDirectory()) {
    return DatasetSource.parse(current.kind === 'folder' ? { ...current, path: dataPath } : { kind: 'folder', path: dataPath });
  }
  if (dataPath.toLowerCase().endsWith('.jsonl')) {
    return DatasetSource.parse(current.kind === 'jsonl' ? { ...current, path: dataPath } : { kind: 'jsonl', path: dataPath });
  }
  return DatasetSource.parse(current.kind === 'file' ? { ...current, path: dataPath } : { kind: 'file', path: dataPath, unit: 'paragraph' });
}

/** The source in a line, for the progress output: "file /data/x.txt (unit: paragraph)". */
export function describeDataSource(s: DatasetSource): string {
  switch (s.kind) {
    case 'corpus': return `the ${describeCorpus(s)}`;
    case 'file': return `file ${s.path} (unit: ${s.unit})`;
    case 'folder': return `folder ${s.path} (unit: ${s.unit}, files ending in ${s.extensions.join(' ')})`;
    case 'jsonl': return `jsonl ${s.path} (text field: ${s.textField}${s.labelField ? `, label field: ${s.labelField}` : ''})`;
  }
}
