/**
 * The folder table of DESIGN.md, made mechanical: a folder says where its code runs, and imports
 * point one way only. `npm test` runs this check first; tools/import-rules.test.ts proves it bites.
 */
// Tests run under Node's test runner wherever they sit; they may import node:test, node:assert and test tools.
const TESTS = '\\.test\\.ts$';
const npm = (names) => `^node_modules/(${names.join('|')})(/|$)`;

module.exports = {
  forbidden: [
    {
      name: 'common-is-pure',
      comment: 'common/ (outside common/node/) runs in every process: it may import itself and zod, nothing else (no node:, DOM, Electron, TF.js).',
      severity: 'error',
      from: { path: '^common/', pathNot: ['^common/node/', TESTS] },
      to: { pathNot: ['^common/(?!node/)', npm(['zod'])] },
    },
    {
      name: 'common-no-node-builtins',
      comment: 'common/ (outside common/node/) must not use Node built-ins: the renderer imports it. (Its tests run under node:test.)',
      severity: 'error',
      from: { path: '^common/', pathNot: ['^common/node/', TESTS] },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'common-node-is-plain-node',
      comment: 'common/node/ is plain-Node code the engine and the host both need: it imports common and Node, never engine, electron, renderer or their libraries.',
      severity: 'error',
      from: { path: '^common/node/' },
      to: { path: ['^(engine|electron|renderer|e2e)/', npm(['electron', 'react', 'react-dom', 'zustand', 'echarts', 'monaco-editor', '@tensorflow/[^/]+'])] },
    },
    {
      name: 'common-tests-stay-in-common',
      comment: 'common/ tests may use Node\'s test runner, but test common code only.',
      severity: 'error',
      from: { path: '^common/.*' + TESTS },
      to: { path: '^(engine|electron|renderer|e2e)/' },
    },
    {
      name: 'engine-knows-no-ui',
      comment: 'engine/ knows nothing of the host, the shell or the UI: it imports common, Node and TF.js only.',
      severity: 'error',
      from: { path: '^engine/' },
      to: { path: ['^(electron|renderer|e2e)/', npm(['electron', 'react', 'react-dom', 'zustand', 'echarts', 'monaco-editor'])] },
    },
    {
      name: 'electron-starts-engine-by-path',
      comment: 'electron/ starts the engine as a process by its path and never imports its code (nor the renderer\'s).',
      severity: 'error',
      from: { path: '^electron/' },
      to: { path: ['^(engine|renderer|e2e)/', npm(['@tensorflow/[^/]+'])] },
    },
    {
      name: 'renderer-is-a-browser',
      comment: 'renderer/ is browser code: common (not common/node/), React and browser libraries only; no node:, Electron, engine or host code.',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { path: ['^(engine|electron|e2e|common/node)/', npm(['electron', '@tensorflow/[^/]+'])] },
    },
    {
      name: 'renderer-no-node-builtins',
      comment: 'renderer/ runs in a browser; its unit tests run under node:test and may use Node built-ins.',
      severity: 'error',
      from: { path: '^renderer/', pathNot: TESTS },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'e2e-drives-the-ui-only',
      comment: 'e2e/ drives the real UI: common and Playwright only.',
      severity: 'error',
      from: { path: '^e2e/' },
      to: { path: ['^(engine|electron|renderer)/'] },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that cannot be resolved is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'] },
  },
};
