// Limit values shared by both drivers: the neutral (unlimited / default) limits, and the
// kernel's rounding of memory values to whole pages.

import type { IoDeviceLimits, Limits } from '../../model/types.js';

/** What a fresh cgroup has: no cap anywhere, default weights, no swap on top of memory. */
export function neutralLimits(): Limits {
  return { cpus: null, cpu_weight: 100, cpuset: null, memory: null, memory_swap: 0, memory_reservation: null, pids: null, io: { weight: 100, devices: {} } };
}

/**
 * The cgroups a driver made and has not applied limits to since. The kernel gives a new cgroup
 * the neutral limits (and v1 a new cpuset its parent's CPUs, copied at mkdir), so apply() on
 * one reports a neutral limit applied without reading it, and writes any other limit without
 * reading it first (writeChecked's `fresh`): a new zone's limits cost a write and a read-back
 * each. Nothing has joined such a cgroup either (execute limits a zone's cgroup before the
 * zone's start): a memory limit cannot make the kernel reclaim, so it is written on the
 * calling thread, with no usage read first. Taken by the first apply: from then on, what the
 * cgroup holds is read.
 */
export class Fresh {
  private readonly names = new Set<string>();

  /** `name` (zonectl/PROJECT[/ZONE]) was just made. */
  made(name: string): void {
    this.names.add(name);
  }

  /** Whether `name` is fresh; it is not any more. */
  take(name: string): boolean {
    return this.names.delete(name);
  }
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
