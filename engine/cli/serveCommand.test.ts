/**
 * `workbench serve` as a user meets it: a real process that prints where it listens and its token, answers
 * the curl it suggests, and stops cleanly on Ctrl+C; a non-loopback --host is refused with the usage.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CompletionResponse, Health } from '../../common/serveApi';
import { TINY_GPT, tinyRun } from '../inspect/tinyRuns.testing';
import { request } from '../serve/serveClient.testing';

const BIN = path.resolve(import.meta.dirname, '../../bin/workbench.js');
let tmp: string;
let run: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-cli-'));
  run = await tinyRun(tmp, TINY_GPT);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('workbench serve', () => {
  it('prints its URL, token and a curl example, serves them, and exits 0 on Ctrl+C', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', run, '--json', '--max-batch', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited ${code} before printing its address`)));
      });
      const info = JSON.parse(first) as { url: string; token: string; health: string; curl: string };
      const port = Number(new URL(info.url).port);
      assert.match(info.health, new RegExp(`^http://127\\.0\\.0\\.1:${port}/health\\?token=${info.token}$`));
      assert.equal((await request(port, { path: new URL(info.health).pathname + new URL(info.health).search })).status, 200);
      const health = Health.parse(JSON.parse((await request(port, { path: '/health', headers: { Authorization: `Bearer ${info.token}` } })).body));
      assert.equal(health.max_batch, 4, '--max-batch reaches the server');
      // the suggested curl's body, sent as curl would send it
      const body = JSON.parse(/-d '(.*)'$/.exec(info.curl)![1]);
      const r = await request(port, { path: '/v1/completions', headers: { Authorization: `Bearer ${info.token}` }, body });
      assert.equal(r.status, 200, r.body);
      assert.equal(CompletionResponse.parse(JSON.parse(r.body)).choices[0].finish_reason, 'length');
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses a --host other than loopback, naming why', () => {
    const r = spawnSync(process.execPath, [BIN, 'serve', run, '--host', '0.0.0.0'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--host 0\.0\.0\.0: the server listens on this machine only \(127\.0\.0\.1\)/);
  });
});
