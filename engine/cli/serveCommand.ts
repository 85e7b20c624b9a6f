/**
 * `workbench serve RUN_DIR|BUNDLE_DIR …`: the run's (or an exported bundle's) model behind the local inference server (../serve/server.ts),
 * until Ctrl+C or SIGTERM. It prints the URL, the token and a curl example; with --json, one line with them.
 */
import { parseArgs } from 'node:util';
import type { ServeStarted } from '../../common/serveApi';
import { SERVE_DEFAULTS, SERVE_HOST, startServer } from '../serve/server';
import { positiveInt, usage, wholeNumber } from './args';
import { RUN_MODEL_FLAGS, openRunModel } from './openRun';

export const SERVE_USAGE = `  workbench serve RUN_DIR|BUNDLE_DIR [--port N] [--host 127.0.0.1] [--max-batch N] [--batch-wait-ms MS] [--max-queue N]
                [--max-body-bytes N] [--request-timeout-ms MS] [--json] [--checkpoint last|best|step-N] [--backend NAME]
      an OpenAI-style HTTP server of the run's model on this machine only (POST /v1/completions for a GPT,
      /v1/fill-mask and /v1/classify for a BERT, GET /v1/models, /health), with the token it prints;
      requests that arrive within --batch-wait-ms (default ${SERVE_DEFAULTS.batchWaitMs}) decode as one batch of up to --max-batch
      (default ${SERVE_DEFAULTS.maxBatch}; 1 = no batching); past --max-queue (default ${SERVE_DEFAULTS.maxQueue}) waiting sequences it answers 429`;

export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: {
      ...RUN_MODEL_FLAGS, port: { type: 'string' }, host: { type: 'string' }, 'max-batch': { type: 'string' }, 'batch-wait-ms': { type: 'string' },
      'max-queue': { type: 'string' }, 'max-body-bytes': { type: 'string' }, 'request-timeout-ms': { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  if (values.host !== undefined && values.host !== SERVE_HOST && values.host !== 'localhost') {
    usage(`--host ${values.host}: the server listens on this machine only (${SERVE_HOST}); its gate assumes that no other machine can connect. Leave --host out`);
  }
  const port = wholeNumber('--port', values.port);
  if (port !== undefined && port > 65535) usage(`--port must be at most 65535, not ${port}`);
  const opts = {
    port,
    maxBatch: positiveInt('--max-batch', values['max-batch']),
    batchWaitMs: wholeNumber('--batch-wait-ms', values['batch-wait-ms']),
    maxQueue: positiveInt('--max-queue', values['max-queue']),
    maxBodyBytes: positiveInt('--max-body-bytes', values['max-body-bytes']),
    requestTimeoutMs: positiveInt('--request-timeout-ms', values['request-timeout-ms']),
  };
  const rm = await openRunModel('serve', positionals, values);
  let server;
  try {
    server = await startServer(rm, { ...opts, log: (line) => process.stderr.write(`serve: ${line}\n`) });
  } catch (err) {
    rm.model.dispose();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') usage(`--port ${port}: already in use; pick another port or leave --port out for a free one`);
    throw err;
  }
  const endpoint = rm.model.config.arch === 'gpt' ? 'completions' : 'fill-mask';
  // a prompt of a few tokens and as many new ones as a small context leaves room for
  const example = rm.model.config.arch === 'gpt' ? `{"prompt": "To be", "max_tokens": ${Math.max(1, Math.min(20, rm.model.config.contextLength - 8))}}` : '{"input": "the [MASK] of the king"}';
  const curl = `curl -s ${server.url}/v1/${endpoint} -H "Authorization: Bearer ${server.token}" -H "Content-Type: application/json" -d '${example}'`;
  const started: ServeStarted = { url: server.url, token: server.token, health: `${server.url}/health?token=${server.token}`, model: server.modelId, checkpoint: rm.checkpoint.name, curl };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(started)}\n`);
  } else {
    process.stdout.write(`serving ${server.modelId} (${rm.model.config.arch}, checkpoint ${rm.checkpoint.name}) at ${started.health}\n`
      + `token: ${server.token}  (send it as "Authorization: Bearer TOKEN"; OpenAI clients: base_url ${server.url}/v1, api_key TOKEN)\n`
      + `try:   ${curl}\nCtrl+C stops the server.\n`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stderr.write('stopping: requests in flight are cancelled\n');
  await server.close();
  rm.model.dispose();
  return 0;
}
