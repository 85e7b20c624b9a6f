// Test preload (node --import): every read through a file handle of node:fs/promises waits WB_SLOW_READ_MS
// first, so that a test can signal a process while it is reading its data, as a slow disk or a network
// file system would hold it. Used by cli.test.ts; nothing in the product imports it.
import fsp from 'node:fs/promises';

const delay = Number(process.env.WB_SLOW_READ_MS ?? 0);
const open = fsp.open;
fsp.open = async (...args) => {
  const fh = await open(...args);
  const read = fh.read.bind(fh);
  fh.read = async (...a) => {
    await new Promise((resolve) => setTimeout(resolve, delay));
    return read(...a);
  };
  return fh;
};
