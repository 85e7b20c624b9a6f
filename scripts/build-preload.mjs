#!/usr/bin/env node
// Bundles electron/preload.ts (and the common/ code it uses) into one CommonJS file: a sandboxed preload
// may require 'electron' and nothing else. Usage: node scripts/build-preload.mjs [OUT_DIR] (default dist/electron)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'electron'));

await build({
  configFile: false,
  root,
  logLevel: 'warn',
  build: {
    outDir,
    emptyOutDir: false,
    minify: false,
    sourcemap: false,
    target: 'chrome130',
    copyPublicDir: false,
    lib: { entry: path.join(root, 'electron', 'preload.ts'), formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
console.log(path.join(outDir, 'preload.cjs'));
