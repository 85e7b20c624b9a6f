/** Helpers shared by the engine's tests. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { selectBackend } from './backends/select';
import type { BackendName } from '../common/backends';

/** The backends every numerics test runs on: both are always installed, and together they cover JS and wasm kernels. */
export const TEST_BACKENDS: BackendName[] = ['cpu', 'wasm'];

export async function useBackend(name: BackendName): Promise<void> {
  await selectBackend(name);
}

/**
 * The plain Python every machine of this project has (a fresh one: python3 without numpy), for the
 * independent readers written with the standard library alone. Not Debian's /usr/bin/python3 on purpose:
 * what needs numpy or torch is a cross-check of `npm run test:cross`, not of `npm test`.
 */
export const PYTHON = process.env.WORKBENCH_PYTHON ?? 'python3';

/** The project's independent TensorBoard reader (../shared/reference, standard library only). */
export const TFEVENTS_READER = path.resolve(import.meta.dirname, '../../shared/reference/read_tfevents.py');

/** Runs a Python program (a file, or code with `-c`); a missing interpreter fails the test, never skips it. */
export function runPython(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`${PYTHON} could not be run (${r.error.message}); the independent readers need Python 3 on PATH (or WORKBENCH_PYTHON)`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
