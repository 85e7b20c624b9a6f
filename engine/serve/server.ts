/**
 * The local inference server of one trained model (`workbench serve`): a loopback HTTP server behind the
 * same gate as the browser mode (common/node/loopbackGuard: Host, Origin and token; token-only, since
 * its callers are programs, not a page with cookies), with OpenAI's error shape on every refusal.
 *
 *   GET  /health            queue and batch figures
 *   GET  /v1/models         the one model served
 *   POST /v1/completions    causal models (./completions.ts), dynamically batched (./batcher.ts)
 *   POST /v1/fill-mask      encoder models (./encoderRoutes.ts)
 *   POST /v1/classify       models with a classification head
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { EngineError } from '../../common/errors';
import { judge, newSecret, type TokenGuardConfig } from '../../common/node/loopbackGuard';
import type { Health } from '../../common/serveApi';
import { activeBackend } from '../backends/select';
import { GPT } from '../models/gpt/model';
import { memoryLimit, sizeText } from '../training/memoryBudget';
import type { RunModel } from '../runs/loadRunModel';
import { Batcher } from './batcher';
import { completions } from './completions';
import { classifyRoute, fillMaskRoute } from './encoderRoutes';
import { ApiFailure, readJson, sendFailure, sendJson } from './http';

/** Never 0.0.0.0: the gate assumes that only this machine can connect. */
export const SERVE_HOST = '127.0.0.1';

export const SERVE_DEFAULTS = {
  maxBatch: 32,
  batchWaitMs: 5,
  maxQueue: 128,
  maxBodyBytes: 1024 * 1024,
  requestTimeoutMs: 60_000,
} as const;

export interface ServeOptions {
  port?: number;
  /** default: a new secret */
  token?: string;
  maxBatch?: number;
  batchWaitMs?: number;
  maxQueue?: number;
  maxBodyBytes?: number;
  requestTimeoutMs?: number;
  log?: (line: string) => void;
  /** runs before each decoding step (tests slow decoding down with it) */
  beforeStep?: () => Promise<void>;
}

export interface RunningServer {
  port: number;
  token: string;
  /** the base URL, and with the token for a first look at /health */
  url: string;
  modelId: string;
  batcher: Batcher | null;
  close(): Promise<void>;
}

const ENDPOINTS = { gpt: ['/v1/completions', '/v1/classify'], bert: ['/v1/fill-mask', '/v1/classify'] } as const;

export async function startServer(rm: RunModel, opts: ServeOptions = {}): Promise<RunningServer> {
  const o = { ...SERVE_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof SERVE_DEFAULTS & ServeOptions;
  const log = opts.log ?? (() => undefined);
  const modelId = path.basename(rm.runDir);
  if (rm.model instanceof GPT) checkCacheMemory(rm.model, o.maxBatch);
  const batcher = rm.model instanceof GPT
    ? new Batcher(rm.model, { maxBatch: o.maxBatch, batchWaitMs: o.batchWaitMs, maxQueue: o.maxQueue, ...(o.beforeStep ? { beforeStep: o.beforeStep } : {}) })
    : null;
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: SERVE_HOST, port: o.port ?? 0, exclusive: true }, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const guard: TokenGuardConfig = { port, token: opts.token ?? newSecret() };
  const created = Math.floor(Date.now() / 1000);

  const health = (): Health => ({
    status: 'ok', model: modelId, queued: batcher?.queued ?? 0, active: batcher?.active ?? 0, max_queue: o.maxQueue, max_batch: o.maxBatch,
    tokens_generated: batcher?.tokensGenerated ?? 0, batches: batcher?.batches ?? 0,
  });
  const models = () => ({
    object: 'list' as const,
    data: [{
      id: modelId, object: 'model' as const, created, owned_by: 'workbench', arch: rm.model.config.arch, checkpoint: rm.checkpoint.name,
      context_length: rm.model.config.contextLength, endpoints: [...ENDPOINTS[rm.model.config.arch]],
    }],
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const verdict = judge(guard, req, false);
    if (!verdict.ok) {
      log(`refused ${req.method} ${req.url?.split('?')[0]}: ${verdict.reason}`);
      throw new ApiFailure(verdict.status, `refused: ${verdict.reason}`, verdict.status === 401 ? 'authentication_error' : 'permission_error');
    }
    const pathname = new URL(req.url ?? '/', `http://${req.headers.host}`).pathname;
    const get = { '/health': health, '/v1/models': models }[pathname];
    const post = ({ '/v1/completions': true, '/v1/fill-mask': true, '/v1/classify': true } as Record<string, boolean>)[pathname];
    if (!get && !post) throw new ApiFailure(404, `no endpoint ${pathname}; this server has GET /health, GET /v1/models and POST ${ENDPOINTS[rm.model.config.arch].join(', ')}`, 'not_found_error');
    const method = get ? 'GET' : 'POST';
    if (req.method !== method) throw new ApiFailure(405, `${pathname} takes ${method}, not ${req.method}`, 'invalid_request_error', null, { Allow: method });
    if (get) return sendJson(res, 200, get());
    const body = await readJson(req, o.maxBodyBytes);
    checkModelName(body, modelId);
    if (pathname === '/v1/completions') {
      if (!batcher) throw new ApiFailure(422, `this server's model is a ${rm.model.config.arch} model, which does not generate text; use /v1/fill-mask or /v1/classify`, 'invalid_request_error', 'model');
      return completions({ batcher, tokenizer: rm.tokenizer, modelId, contextLength: rm.model.config.contextLength, requestTimeoutMs: o.requestTimeoutMs }, req, res, body);
    }
    sendJson(res, 200, pathname === '/v1/fill-mask' ? fillMaskRoute(rm, modelId, body) : classifyRoute(rm, modelId, body));
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((err: unknown) => {
      const failure = err instanceof ApiFailure ? err : new ApiFailure(500, `internal error: ${(err as Error)?.message ?? String(err)}`, 'server_error');
      if (failure.status === 500) log(`${req.method} ${req.url?.split('?')[0]}: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent) sendFailure(res, failure);
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    port, token: guard.token, modelId, batcher, url: `http://${SERVE_HOST}:${port}`,
    /** Stops listening; requests in flight are answered 503 after the current step, then every connection closes. */
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await batcher?.close();
      // a keep-alive connection that just had its answer would hold close() open: a moment to flush, then they go
      setTimeout(() => server.closeAllConnections(), 500).unref();
      await closed;
    },
  };
}

/**
 * A full batch's key/value cache must fit beside the model: 2 (keys, values) × layers × batch × slots × dModel
 * floats, where a left-padded batch holds up to two contexts of slots (the longest prompt, then the new tokens).
 */
function checkCacheMemory(model: GPT, maxBatch: number): void {
  const c = model.config;
  const bytes = 2 * c.nLayers * maxBatch * 2 * c.contextLength * c.dModel * 4;
  const limit = memoryLimit(activeBackend());
  if (bytes > limit.bytes) {
    throw new EngineError('INVALID_CONFIG', `--max-batch ${maxBatch}: a full batch's key/value cache needs about ${sizeText(bytes)}, more than ${limit.what} allows (${sizeText(limit.bytes)}); lower --max-batch to at most ${Math.max(1, Math.floor(maxBatch * limit.bytes / bytes))}`, ['maxBatch']);
  }
}

/** A request may name the model (OpenAI's clients always do); a name other than the served one is a mistake to report. */
function checkModelName(body: unknown, modelId: string): void {
  const named = body && typeof body === 'object' ? (body as { model?: unknown }).model : undefined;
  if (typeof named === 'string' && named !== modelId) {
    throw new ApiFailure(404, `model '${named}' is not served here; this server serves '${modelId}' (GET /v1/models), or leave model out`, 'invalid_request_error', 'model');
  }
}
