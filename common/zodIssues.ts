import type { z } from 'zod';
import { EngineError } from './errors';

/**
 * zod issues in the words every refusal of this project uses: `field.path: what is wrong and the fix`,
 * one per issue. Defined once so that the engine, the host, the protocol and the UI say it alike.
 */

/** Where an issue is; for an unknown key, the key itself rather than only the object that holds it. */
export function issuePath(issue: z.core.$ZodIssue): (string | number)[] {
  const at = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) at.push(issue.keys[0]);
  return at;
}

export interface FormatIssuesOptions {
  /** prepended to every path, e.g. ['model'] for a model cell's fields */
  prefix?: (string | number)[];
  /** between issues: '; ' in one-line messages (the default), '\n' in multi-line ones */
  separator?: string;
}

export function formatIssues(error: z.ZodError, { prefix = [], separator = '; ' }: FormatIssuesOptions = {}): string {
  return error.issues.map((i) => `${[...prefix, ...issuePath(i)].join('.') || '(top level)'}: ${i.message}`).join(separator);
}

/** A config refused by its schema: INVALID_CONFIG, every issue under `prefix`, the first issue's field as its path. */
export function invalidConfig(error: z.ZodError, prefix: (string | number)[] = []): EngineError {
  const first = error.issues[0];
  return new EngineError('INVALID_CONFIG', formatIssues(error, { prefix, separator: '\n' }), [...prefix, ...(first ? issuePath(first) : [])]);
}
