import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * The renderer, built for both shells: Electron loads dist/renderer/index.html from disk (hence base './')
 * and browser mode serves the same files. Everything, Monaco and its workers included, comes from the
 * bundle; the built page carries a strict Content-Security-Policy with no inline script allowed.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // Monaco and React set element styles at run time
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

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
