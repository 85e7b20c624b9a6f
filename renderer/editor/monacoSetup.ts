import { loader } from '@monaco-editor/react';
import * as monaco from 'monaco-editor';
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';
import JsonWorker from 'monaco-editor/language/json/json.worker.js?worker';
import { type ConfigKind, jsonSchemaOf } from '../lib/cellConfig';

/**
 * Monaco from the bundle, never from a CDN: @monaco-editor/react is handed this module's instance, and
 * the editor and JSON workers are Vite worker chunks served from the app's own origin (the page's CSP
 * allows nothing else). Each kind of cell's JSON is validated by the JSON Schema generated from its zod
 * schema, which also drives completion and hover docs.
 */
self.MonacoEnvironment = {
  getWorker(_id: string, label: string) {
    return label === 'json' ? new JsonWorker() : new EditorWorker();
  },
};

const KINDS: ConfigKind[] = ['dataset', 'model', 'pretrain'];

/** The model URI of a cell's JSON: the file name's suffix picks its schema. */
export const modelPath = (cellId: string, kind: ConfigKind) => `inmemory://workbench/cells/${cellId}.${kind}.json`;

monaco.json.jsonDefaults.setDiagnosticsOptions({
  validate: true,
  allowComments: false,
  enableSchemaRequest: false,
  schemas: KINDS.map((kind) => ({
    uri: `inmemory://workbench/schemas/${kind}.json`,
    fileMatch: [`*.${kind}.json`],
    schema: jsonSchemaOf(kind),
  })),
});

monaco.editor.defineTheme('workbench', {
  base: 'vs',
  inherit: true,
  rules: [],
  colors: { 'editor.background': '#fbfbfc', 'editorGutter.background': '#fbfbfc', 'editorLineNumber.foreground': '#b4b8bf' },
});

loader.config({ monaco });

export { monaco };
