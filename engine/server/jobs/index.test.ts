import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEVICE_JOB_KINDS, JobKind } from '../../../common/protocol';
import { JOB_HANDLERS } from './index';

it('the jobs that use the device are the ones the host shows the engine busy for (common/protocol.ts DEVICE_JOB_KINDS)', () => {
  for (const kind of JobKind.options) {
    assert.equal(JOB_HANDLERS[kind].usesDevice, DEVICE_JOB_KINDS.has(kind), `${kind}: usesDevice ${JOB_HANDLERS[kind].usesDevice}, DEVICE_JOB_KINDS ${DEVICE_JOB_KINDS.has(kind)}`);
  }
});
