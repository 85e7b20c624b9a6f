/**
 * A test harness small enough to need no Node module: renderer/ may not import node:test (the folder
 * rule in .dependency-cruiser.cjs), yet these tests run under `node --import tsx --test`, which counts a
 * file that exits non-zero as failed. Each case prints `ok`/`not ok` and its error.
 */
type Case = { name: string; fn: () => void | Promise<void> };
const cases: Case[] = [];
let queued = false;

const proc = (globalThis as { process?: { exitCode?: number } }).process;

export function test(name: string, fn: () => void | Promise<void>): void {
  cases.push({ name, fn });
  if (queued) return;
  queued = true;
  setTimeout(async () => {
    let failed = 0;
    for (const c of cases) {
      try { await c.fn(); console.log(`ok - ${c.name}`); } catch (e) {
        failed += 1;
        console.log(`not ok - ${c.name}\n${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      }
    }
    console.log(`# ${cases.length - failed}/${cases.length} passed`);
    if (failed && proc) proc.exitCode = 1;
  }, 0);
}

export class AssertionError extends Error {}

export function ok(cond: unknown, message = 'expected a truthy value'): asserts cond {
  if (!cond) throw new AssertionError(message);
}

export function equal<T>(actual: T, expected: T, message = ''): void {
  if (!Object.is(actual, expected)) throw new AssertionError(`${message} expected ${String(expected)}, got ${String(actual)}`);
}

export function close(actual: number, expected: number, tol = 1e-9, message = ''): void {
  if (!(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)))) throw new AssertionError(`${message} expected ${expected} ± ${tol}, got ${actual}`);
}

export function deepEqual(actual: unknown, expected: unknown, message = ''): void {
  const a = JSON.stringify(actual), b = JSON.stringify(expected);
  if (a !== b) throw new AssertionError(`${message} expected ${b}, got ${a}`);
}
