import Editor, { type OnMount } from '@monaco-editor/react';
import { useEffect, useRef, useState } from 'react';
import type { ConfigIssue, ConfigKind } from '../lib/cellConfig';
import { modelPath, monaco } from './monacoSetup';

type IEditor = Parameters<OnMount>[0];

/**
 * A cell's config as JSON in Monaco. Text that parses is handed up at once (the form follows); text that
 * does not is reported as an error and the document keeps its last good value. When the value changes
 * from elsewhere (the form, undo), the text is replaced unless it already says the same thing.
 */
/** The text offset of a config path's key (searching key after key), or 0 when it cannot be found. */
function offsetOf(text: string, path: (string | number)[]): number {
  let at = 0;
  for (const p of path) {
    if (typeof p === 'number') continue;
    const i = text.indexOf(`"${p}"`, at);
    if (i < 0) break;
    at = i;
  }
  return at;
}

export default function ConfigEditor({ cellId, kind, value, issues, onChange, onJsonError }: {
  cellId: string;
  kind: ConfigKind;
  value: unknown;
  /** the zod schema's issues, cross-field checks included (the JSON Schema cannot express those) */
  issues: ConfigIssue[];
  onChange: (v: unknown) => void;
  onJsonError: (message: string | null) => void;
}) {
  const editorRef = useRef<IEditor | null>(null);
  const [mounted, setMounted] = useState(false);
  const text = JSON.stringify(value ?? {}, null, 2);

  useEffect(() => {
    const ed = editorRef.current;
    if (!ed) return;
    const current = ed.getValue();
    let same = false;
    try { same = JSON.stringify(JSON.parse(current)) === JSON.stringify(value); } catch { same = false; }
    if (!same && !ed.hasTextFocus()) ed.setValue(text);
    else if (!same) {
      // keep the user's undo stack: replace the whole text as one edit
      const model = ed.getModel();
      if (model) ed.executeEdits('workbench', [{ range: model.getFullModelRange(), text }]);
    }
  }, [text, value]);

  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (!model) return;
    const t = model.getValue();
    monaco.editor.setModelMarkers(model, 'workbench', issues.map((i) => {
      const start = model.getPositionAt(offsetOf(t, i.path));
      return { severity: monaco.MarkerSeverity.Error, message: i.message, startLineNumber: start.lineNumber, startColumn: start.column, endLineNumber: start.lineNumber, endColumn: model.getLineMaxColumn(start.lineNumber) };
    }));
  }, [issues, text, mounted]);

  // the JSON's line count sets the height (within bounds), so the notebook scrolls, not the editor
  const lines = text.split('\n').length;
  const height = Math.min(Math.max(lines, 6), 28) * 19 + 12;

  return (
    <div className="config-editor" style={{ height }}>
      <Editor
        path={modelPath(cellId, kind)}
        defaultLanguage="json"
        defaultValue={text}
        theme="workbench"
        options={{
          minimap: { enabled: false },
          scrollBeyondLastLine: false,
          fontSize: 12.5,
          lineHeight: 19,
          fontFamily: 'ui-monospace, "JetBrains Mono", "SF Mono", Menlo, Consolas, monospace',
          tabSize: 2,
          automaticLayout: true,
          renderLineHighlight: 'none',
          overviewRulerLanes: 0,
          hideCursorInOverviewRuler: true,
          scrollbar: { alwaysConsumeMouseWheel: false },
          fixedOverflowWidgets: true,
          quickSuggestions: { strings: true, other: true, comments: false },
        }}
        onMount={(ed) => { editorRef.current = ed; setMounted(true); }}
        onChange={(t) => {
          if (t === undefined) return;
          try {
            const v = JSON.parse(t);
            onJsonError(null);
            onChange(v);
          } catch (err) {
            onJsonError(err instanceof Error ? err.message : String(err));
          }
        }}
      />
    </div>
  );
}

/** Markers Monaco's JSON worker set on a cell's model (schema errors), for tests and the run guard. */
export function schemaMarkers(cellId: string, kind: ConfigKind) {
  return monaco.editor.getModelMarkers({ resource: monaco.Uri.parse(modelPath(cellId, kind)) });
}
