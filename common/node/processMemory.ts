/**
 * A process's resident memory as Linux counts it (/proc/PID/status): now (VmRSS) and at its peak (VmHWM).
 * The peak can be started again (clear_refs), so one long-lived process — the engine serving job after job —
 * can be measured task by task. Linux only: elsewhere these throw, naming the file they could not read.
 */
import fs from 'node:fs';

export interface ProcessMemory {
  rssBytes: number;
  peakBytes: number;
}

export function processMemory(pid: number): ProcessMemory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${field} line`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kb('VmRSS'), peakBytes: kb('VmHWM') };
}

/** Makes the peak the current resident size again (Linux ≥ 4.0; the caller must be root or the process's owner). */
export function resetPeakMemory(pid: number): void {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

export const toMiB = (bytes: number): number => bytes / 2 ** 20;
