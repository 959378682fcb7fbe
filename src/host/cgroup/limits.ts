// Limit values shared by both drivers: the neutral (unlimited / default) limits, and the
// kernel's rounding of memory values to whole pages.

import type { IoDeviceLimits, Limits } from '../../model/types.js';

/** What a fresh cgroup has: no cap anywhere, default weights, no swap on top of memory. */
export function neutralLimits(): Limits {
  return { cpus: null, cpu_weight: 100, cpuset: null, memory: null, memory_swap: 0, memory_reservation: null, pids: null, io: { weight: 100, devices: {} } };
}

/** The kernel stores memory limits in pages, rounding down. */
export function pageFloor(bytes: number | null, pageSize: number): number | null {
  return bytes === null ? null : Math.floor(bytes / pageSize) * pageSize;
}

export function deviceIsUnlimited(d: IoDeviceLimits): boolean {
  return d.read_bps === null && d.write_bps === null && d.read_iops === null && d.write_iops === null;
}

/** Device limits without the all-unlimited entries (the kernel keeps no line for those), sorted by path. */
export function cappedDevices(devices: Record<string, IoDeviceLimits>): Record<string, IoDeviceLimits> {
  const out: Record<string, IoDeviceLimits> = {};
  for (const path of Object.keys(devices).sort()) if (!deviceIsUnlimited(devices[path]!)) out[path] = { ...devices[path]! };
  return out;
}

export function sameCpus(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}
