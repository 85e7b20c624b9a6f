import { z } from 'zod';

/** Every error the engine or host reports carries one of these codes, so UIs can react to kinds, not strings. */
export const ErrorCode = z.enum([
  'BAD_MESSAGE',        // a protocol message that is not JSON, not an object, or fails its schema
  'UNKNOWN_COMMAND',    // a well-formed message naming a command this engine does not have
  'PROTOCOL_VERSION',   // the peer speaks another major version of the protocol
  'INVALID_CONFIG',     // a model / training config that cannot be built; the message names the field and the fix
  'INVALID_DATASET',    // a dataset that cannot be read, is binary, empty after cleaning or too short; the message names the file and why
  'BACKEND_UNAVAILABLE',
  'JOB_NOT_FOUND',
  'JOB_CANCELLED',
  'BUSY',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const SerializedError = z.object({
  code: ErrorCode,
  message: z.string(),
  /** where in the input the problem is, e.g. ['model', 'nHeads'] */
  path: z.array(z.union([z.string(), z.number()])).optional(),
});
export type SerializedError = z.infer<typeof SerializedError>;

export class EngineError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly path?: (string | number)[]) {
    super(message);
    this.name = 'EngineError';
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, ...(this.path ? { path: this.path } : {}) };
  }
}

/** Longer messages are cut: an error travels in protocol messages and shows in a banner. */
export const MAX_ERROR_CHARS = 2000;

const JS_BUGS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'URIError']);

/**
 * Anything thrown, as the engine, the host and both wires carry it. An EngineError keeps its code and path;
 * so does an error-shaped object that crossed a process boundary (its class is lost, its fields are not);
 * anything else is INTERNAL; one of JavaScript's own error classes (a bug, not a refusal) is named.
 */
export function toSerializedError(err: unknown): SerializedError {
  if (err instanceof EngineError) return err.toJSON();
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown; path?: unknown; name?: unknown };
    const code = ErrorCode.safeParse(e.code);
    const text = typeof e.message === 'string' ? e.message : String(err);
    const named = !code.success && err instanceof Error && JS_BUGS.has(err.name) ? `${err.name}: ${text}` : text;
    const path = Array.isArray(e.path) && e.path.every((p) => typeof p === 'string' || typeof p === 'number') ? (e.path as (string | number)[]) : undefined;
    return { code: code.success ? code.data : 'INTERNAL', message: named.slice(0, MAX_ERROR_CHARS), ...(code.success && path ? { path } : {}) };
  }
  return { code: 'INTERNAL', message: `a non-Error value was thrown: ${JSON.stringify(err) ?? String(err)}`.slice(0, MAX_ERROR_CHARS) };
}
