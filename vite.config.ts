import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { rendererCsp } from './electron/csp';

/**
 * The renderer, built for both shells: Electron loads dist/renderer/index.html from disk (hence base './')
 * and browser mode serves the same files. Everything, Monaco and its workers included, comes from the
 * bundle; the built page carries the strict Content-Security-Policy of electron/csp.ts, no inline script allowed.
 */
// the policy the desktop app and browser mode send as a header, less what a <meta> cannot carry: both agree
// (connect-src 'self' covers the page's own ws:// socket; any other host is refused)
const CSP = rendererCsp({ meta: true });

/** Adds the CSP to the built page only: Vite's dev server injects an inline script for hot reload. */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'workbench-csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react(), contentSecurityPolicy()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
  },
  worker: { format: 'es' },
  server: {
    // browser mode in development: the host serves /api; point WORKBENCH_HOST at it
    proxy: process.env.WORKBENCH_HOST ? { '/api': { target: process.env.WORKBENCH_HOST, ws: true } } : undefined,
  },
});
