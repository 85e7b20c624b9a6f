/** React's window onto the buffer: a version counter that moves at most ~10 times a second. */
import { useSyncExternalStore } from 'react';
import type { MetricsBuffer } from './metricsBuffer';

export function useMetricsVersion(buffer: MetricsBuffer): number {
  return useSyncExternalStore(buffer.subscribe, () => buffer.version, () => buffer.version);
}
