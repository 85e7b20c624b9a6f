/**
 * The preload, bundled into one CommonJS file (scripts/build-preload.mjs) because a sandboxed preload may
 * require 'electron' and nothing else. It exposes exactly `window.workbench`: WorkbenchApi's call and on.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createBridgeApi } from './shell/preloadApi';

const api = createBridgeApi(ipcRenderer);
contextBridge.exposeInMainWorld('workbench', {
  call: (method: Parameters<typeof api.call>[0], params: Parameters<typeof api.call>[1]) => api.call(method, params),
  on: (event: Parameters<typeof api.on>[0], listener: Parameters<typeof api.on>[1]) => api.on(event, listener),
});
