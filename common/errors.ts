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
