import type { WorkbenchApi } from '../../common/workbenchApi';
import { ApiError, setApi } from '../api';
import { useStore } from '../state/store';
import { deepEqual, equal, test } from '../dashboards/testing';
import { startServe, stopServe } from './serve';

const PATH = '/w/x.experiment.json';
const INFO = { url: 'http://127.0.0.1:4000', token: 'ab', health: 'http://127.0.0.1:4000/health?token=ab', model: 'r1', checkpoint: 'step-00000006', curl: 'curl …' };

/** A host whose serve.start answers `start` (or throws it), recording every call. */
function fakeHost(start: unknown) {
  const calls: [string, unknown][] = [];
  setApi({
    async call(method: string, params: unknown) {
      calls.push([method, params]);
      if (method === 'serve.start') { if (start instanceof Error) throw start; return start; }
      if (method === 'serve.stop') return {};
      throw new Error(`unexpected call ${method}`);
    },
    on: () => () => {},
  } as unknown as WorkbenchApi);
  useStore.setState({ path: PATH, serving: {} });
  return calls;
}

test('Serve shows starting, then the server\'s address; Stop forgets it and stops it in the host', async () => {
  const calls = fakeHost(INFO);
  const started = startServe('r1');
  deepEqual(useStore.getState().serving.r1, { phase: 'starting' });
  await started;
  deepEqual(useStore.getState().serving.r1, { phase: 'serving', info: INFO });
  await stopServe('r1');
  equal(useStore.getState().serving.r1, undefined);
  deepEqual(calls, [['serve.start', { experimentPath: PATH, runId: 'r1' }], ['serve.stop', { experimentPath: PATH, runId: 'r1' }]]);
});

test('a server that cannot start leaves the host\'s reason on the run', async () => {
  fakeHost(new ApiError('INVALID_CONFIG', '/w/x.runs/r2: has no checkpoint yet', ['runId']));
  await startServe('r2');
  deepEqual(useStore.getState().serving.r2, { phase: 'failed', message: '/w/x.runs/r2: has no checkpoint yet' });
});
