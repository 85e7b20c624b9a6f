/**
 * How the engine process talks to whoever started it. Two parents are possible: Node's
 * `child_process.fork` (process.send / 'message') and Electron's `utilityProcess.fork`
 * (process.parentPort, whose messages arrive wrapped as `{ data }`). The server above sees neither.
 */
import type { EngineEvent } from '../../common/protocol';

export interface Transport {
  /** which parent this is, for logs */
  readonly kind: 'child_process' | 'utilityProcess';
  send(event: EngineEvent): void;
  /** every incoming message, exactly as it arrived (already-decoded data or JSON text) */
  onMessage(listener: (raw: unknown) => void): void;
  /** called once when the parent goes away: an orphaned engine has no one to serve */
  onDisconnect(listener: () => void): void;
  /** resolves when everything sent so far has left the process */
  flush(): Promise<void>;
}

/** Electron's parentPort; not in @types/node, so described here with the little we use. */
interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

export function parentTransport(): Transport {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) return utilityProcessTransport(parentPort);
  if (typeof process.send === 'function') return childProcessTransport();
  throw new Error('engine/main.ts must be started by child_process.fork or Electron utilityProcess.fork: it has no IPC channel to its parent');
}

function childProcessTransport(): Transport {
  let pending = 0;
  let drained: (() => void)[] = [];
  const settle = () => {
    pending--;
    if (pending === 0) {
      const waiting = drained;
      drained = [];
      for (const resolve of waiting) resolve();
    }
  };
  return {
    kind: 'child_process',
    send(event) {
      if (!process.connected) return; // the parent is gone; 'disconnect' ends the process
      pending++;
      try {
        // the callback also fires on failure (channel closed under us): nothing more can be done then
        process.send!(event, undefined, {}, settle);
      } catch {
        settle();
      }
    },
    onMessage(listener) {
      process.on('message', (raw) => listener(raw));
    },
    onDisconnect(listener) {
      process.once('disconnect', listener);
    },
    flush() {
      return pending === 0 ? Promise.resolve() : new Promise((resolve) => drained.push(resolve));
    },
  };
}

function utilityProcessTransport(port: ParentPort): Transport {
  return {
    kind: 'utilityProcess',
    send(event) {
      port.postMessage(event);
    },
    onMessage(listener) {
      port.on('message', (e) => listener(e?.data));
    },
    onDisconnect() {
      // Electron kills a utility process with its parent; there is no disconnect to watch.
    },
    flush() {
      return new Promise((resolve) => setImmediate(resolve));
    },
  };
}
