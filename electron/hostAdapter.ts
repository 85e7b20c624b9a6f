import type { WorkbenchHost } from './host/workbenchHost';
import type { HostLike } from './hostLike';

/** The real host as the transports see it: calls by run-time method name go through callRaw. */
export function asHostLike(host: WorkbenchHost): HostLike {
  return {
    call: (method, params) => host.callRaw(method, params),
    on: (event, listener) => host.on(event, listener),
    dispose: () => host.dispose(),
  };
}
