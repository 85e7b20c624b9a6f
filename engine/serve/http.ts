/** The inference server's plumbing: bounded JSON bodies, JSON replies and OpenAI-shaped refusals. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { ApiError } from '../../common/serveApi';
import { issuePath } from '../../common/zodIssues';

const HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } as const;

/** A refusal: its status, OpenAI's error type, the request field at fault (if one is) and extra headers. */
export class ApiFailure extends Error {
  constructor(readonly status: number, message: string, readonly type: string, readonly param: string | null = null, readonly headers: Record<string, string> = {}) {
    super(message);
  }

  get body(): ApiError {
    return { error: { message: this.message, type: this.type, param: this.param, code: null } };
  }
}

export const invalid = (message: string, param: string | null = null) => new ApiFailure(422, message, 'invalid_request_error', param);

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...HEADERS, ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

export function sendFailure(res: ServerResponse, f: ApiFailure): void {
  sendJson(res, f.status, f.body, f.status === 413 ? { ...f.headers, Connection: 'close' } : f.headers);
}

/** Starts a server-sent event stream. */
export function startEvents(res: ServerResponse): void {
  res.writeHead(200, { ...HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
  res.flushHeaders();
}

export function sendEvent(res: ServerResponse, data: unknown): void {
  if (!res.writableEnded && !res.destroyed) res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

/** The body as JSON, refused with 413 past `limit` bytes (by its Content-Length before a byte is read, or as it arrives). */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooBig = () => new ApiFailure(413, `the request body is larger than this server's limit of ${limit} bytes (--max-body-bytes); send a shorter prompt`, 'invalid_request_error');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume(); // read and dropped: the reply goes out, then the connection closes
    throw tooBig();
  }
  // events, not for-await: leaving a for-await loop destroys the socket, and the 413 could not be sent
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      reject(tooBig());
    };
    req.on('data', onData);
    req.once('end', () => resolve());
    req.once('error', reject);
  });
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiFailure(400, `the body is not valid JSON (${(err as Error).message}); send a JSON object`, 'invalid_request_error');
  }
}

/** The body checked against its schema; the first problem is named with its field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const at = issuePath(issue);
  const field = at.join('.') || null;
  const message = issue.code === 'unrecognized_keys' ? `'${at[at.length - 1]}' is not a field this server takes; remove it` : issue.message;
  throw invalid(`${field ?? 'the body'}: ${message}`, field);
}
