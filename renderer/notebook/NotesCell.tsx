import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { useMemo } from 'react';
import type { CellInput } from '../lib/cellConfig';
import { updateCell } from '../state/documentSlice';
import { useStore } from '../state/store';

type Notes = Extract<CellInput, { kind: 'notes' }>;

/** Markdown, rendered by marked and sanitised by DOMPurify; double-click (or Edit) to write, Shift+Enter to render. */
export function NotesCell({ cell }: { cell: Notes }) {
  const editing = useStore((s) => s.editingNotes === cell.id);
  const setEditing = useStore((s) => s.setEditingNotes);
  const editDocument = useStore((s) => s.editDocument);
  const markdown = cell.markdown ?? '';
  const html = useMemo(() => DOMPurify.sanitize(marked.parse(markdown, { async: false })), [markdown]);

  if (editing) {
    return (
      <textarea
        className="notes-editor mono"
        autoFocus
        value={markdown}
        rows={Math.min(Math.max(markdown.split('\n').length + 1, 4), 30)}
        onChange={(e) => editDocument((doc) => updateCell(doc, cell.id, (c) => ({ ...c, markdown: e.target.value })), `${cell.id}:markdown`)}
        onBlur={() => setEditing(null)}
        placeholder="Markdown: # headings, **bold**, `code`, lists, links"
      />
    );
  }
  return (
    <div className="markdown" onDoubleClick={() => setEditing(cell.id)}
      // sanitised above by DOMPurify
      dangerouslySetInnerHTML={{ __html: html || '<p class="muted">Empty note — double-click to write.</p>' }} />
  );
}
