/**
 * The engine process. Started by the host with `child_process.fork` (or Electron's
 * `utilityProcess.fork`), it announces itself with `onReady` and then serves the protocol of
 * common/protocol.ts until `shutdown` or until its parent goes away.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { PROTOCOL_VERSION } from '../common/protocol';
import { availableBackends, selectBackend } from './backends/select';
import { EngineServer } from './server/engineServer';
import { JOB_HANDLERS } from './server/jobs';
import { parentTransport } from './server/transport';

const engineVersion = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
const transport = parentTransport();

async function exit(code: number): Promise<void> {
  await transport.flush();
  process.exit(code);
}

const server = new EngineServer({
  emit: (event) => transport.send(event),
  runtime: {
    engineVersion,
    selectBackend,
    availableBackends,
    memory: () => {
      const m = tf.memory();
      return { numTensors: m.numTensors, numBytes: m.numBytes };
    },
  },
  jobs: JOB_HANDLERS,
  onShutdown: () => { void exit(0); },
});

// An error no job caught (a throw in a timer, a promise nobody awaited) is reported, not fatal.
process.on('uncaughtException', (err) => server.reportUncaught(err));
process.on('unhandledRejection', (reason) => server.reportUncaught(reason));

transport.onMessage((raw) => server.handle(raw));
transport.onDisconnect(() => process.exit(0));
transport.send({ type: 'onReady', engineVersion, protocolVersion: PROTOCOL_VERSION, pid: process.pid });
