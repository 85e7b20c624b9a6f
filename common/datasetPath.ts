/**
 * Dataset paths as a dataset cell stores them: relative to the experiment file's folder, so the experiment
 * and its data move (or are committed, or mailed) together. Pure string work, for the page, which has no
 * `node:path`: both '/' and Windows' '\' separators are understood, and a Windows drive compares without case.
 */

const isAbsolute = (p: string) => p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(p);

/** '/'-separated with '.', '..' and doubled separators resolved; a path that climbs above its root keeps its '..'. */
function normalize(p: string): string {
  const forward = p.replace(/\\/g, '/');
  const root = /^[A-Za-z]:\//.test(forward) ? forward.slice(0, 3) : forward.startsWith('/') ? '/' : '';
  const out: string[] = [];
  for (const part of forward.slice(root.length).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length && out[out.length - 1] !== '..') out.pop();
    else if (part !== '..' || !root) out.push(part);
  }
  return root + out.join('/');
}

/**
 * `p` as the cell stores it: an absolute path inside the experiment's folder tree becomes relative to that
 * folder ('/'-separated); a relative path, a path elsewhere, or any path of an unsaved experiment is kept as given.
 */
export function datasetPathForCell(p: string, experimentPath: string | null): string {
  if (!experimentPath || !isAbsolute(p) || !isAbsolute(experimentPath)) return p;
  const file = normalize(experimentPath);
  const dir = file.slice(0, file.lastIndexOf('/')) || '/';
  const target = normalize(p);
  const windows = /^[A-Za-z]:/.test(dir);
  const key = (x: string) => (windows ? x.toLowerCase() : x);
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  if (key(target) === key(dir)) return '.';
  if (!key(target).startsWith(key(prefix))) return p;
  return target.slice(prefix.length);
}
