/**
 * The Serve button's host side with the real command: serve.start brings a run's model up behind the
 * inference server and answers its URL, token and a curl that works; a second start gives the same server;
 * serve.stop ends it; a run that cannot be served is refused with the command's own reason.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { EXPERIMENT_FORMAT, EXPERIMENT_VERSION } from '../../common/experiment';
import { REPO_ROOT } from './engineSupervisor';
import { createWorkbenchHost, type WorkbenchHost } from './workbenchHost';

const SHAKESPEARE = path.resolve(REPO_ROOT, '../shared/data/tinyshakespeare.txt');
let tmp: string;
let host: WorkbenchHost;
let experimentPath: string;
let runId: string;

/** POST `body` to the server with the token; the status and the body. */
function post(url: string, token: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-host-'));
  fs.writeFileSync(path.join(tmp, 'small.txt'), fs.readFileSync(SHAKESPEARE, 'utf8').slice(0, 20_000));
  experimentPath = path.join(tmp, 'tiny.experiment.json');
  fs.writeFileSync(experimentPath, JSON.stringify({
    format: EXPERIMENT_FORMAT, version: EXPERIMENT_VERSION, name: 'tiny',
    cells: [
      { id: 'd', kind: 'dataset', dataset: { source: { kind: 'file', path: 'small.txt', unit: 'file' }, split: 'tail', cleaning: { normalizeWhitespace: false, dedupeExact: false, dedupeNear: { enabled: false }, minChars: 0 } }, tokenizer: { kind: 'char' } },
      { id: 'm', kind: 'model', model: { arch: 'gpt', contextLength: 32, dModel: 16, nHeads: 2, nLayers: 1 } },
      { id: 'p', kind: 'pretrain', pretrain: { steps: 4, batchSize: 4, evalBatches: 1, schedule: { warmupSteps: 1 } } },
    ],
  }));
  const train = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/workbench.js'), 'train', experimentPath, '--json'], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache') } });
  const summary = JSON.parse(train.stdout.trim().split('\n').at(-1)!) as { status: string; run_id: string };
  assert.equal(summary.status, 'completed', train.stderr);
  runId = summary.run_id;
  host = createWorkbenchHost({ configDir: path.join(tmp, 'config'), startEngine: false });
});
after(async () => {
  await host?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('serve.start / serve.stop', () => {
  it('serves the run and hands back a curl that works; a second start is the same server; stop ends it', async () => {
    const started = await host.call('serve.start', { experimentPath, runId });
    assert.equal(started.model, runId);
    assert.match(started.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const body = /-d '(.*)'$/.exec(started.curl)![1];
    const r = await post(`${started.url}/v1/completions`, started.token, body);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(await host.call('serve.start', { experimentPath, runId }), started);
    await host.call('serve.stop', { experimentPath, runId });
    await assert.rejects(post(`${started.url}/v1/completions`, started.token, body), /ECONNREFUSED/);
  });

  it('refuses a run that cannot be served with the command\'s reason', async () => {
    await assert.rejects(host.call('serve.start', { experimentPath, runId: '20990101-000000-none' }), /neither a run folder \(it has no run\.json\) nor a Hugging Face bundle/);
  });
});
