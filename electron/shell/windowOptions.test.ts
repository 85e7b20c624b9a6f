import assert from 'node:assert/strict';
import { test } from 'node:test';
import { windowOptions } from './windowOptions';

test('the window follows Electron\'s security checklist', () => {
  const o = windowOptions({ preloadPath: '/app/dist/electron/preload.cjs', devTools: false });
  const w = o.webPreferences!;
  assert.equal(w.contextIsolation, true, 'checklist 3: context isolation');
  assert.equal(w.sandbox, true, 'checklist 4: sandbox');
  assert.equal(w.nodeIntegration, false, 'checklist 2: no Node in the page');
  assert.equal(w.nodeIntegrationInWorker, false);
  assert.equal(w.nodeIntegrationInSubFrames, false);
  assert.equal(w.webSecurity, true, 'checklist 6: webSecurity');
  assert.equal(w.allowRunningInsecureContent, false, 'checklist 8');
  assert.equal(w.experimentalFeatures, false, 'checklist 9');
  assert.equal(w.enableBlinkFeatures, undefined, 'checklist 10');
  assert.equal(w.webviewTag, false, 'checklist 11: no <webview>');
  assert.equal(w.preload, '/app/dist/electron/preload.cjs');
  assert.equal(o.show, false);
  assert.equal(w.devTools, false, 'a packaged build has no developer tools');
  assert.equal(windowOptions({ preloadPath: '/dev/preload.cjs', devTools: true }).webPreferences!.devTools, true, 'development keeps them');
  // nothing in the options points at remote content
  assert.ok(!/https?:/.test(JSON.stringify(o)));
});
