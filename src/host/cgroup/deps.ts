// What a driver is given by the factory: the host (or a fake of it) and its timings.

import type { DeviceResolver } from './devices.js';
import type { CgroupDriverTimings } from './driver.js';
import type { CgroupFs } from './fs.js';
import type { Signaller } from './removal.js';

export interface DriverDeps {
  fs: CgroupFs;
  devices: DeviceResolver;
  signal: Signaller;
  timings: CgroupDriverTimings;
  /** Memory limits are kept in whole pages. */
  pageSize: number;
  /** Whether the host has any swap device: without swap accounting, "no swap" still holds if there is no swap at all. */
  hostHasSwap: boolean;
  /** Whether memory cgroups account swap (v2 memory.swap.max, v1 memory.memsw.*). */
  swapAccounting: boolean;
}

/** The top directory of zonectl's cgroups in each hierarchy. */
export const TOP = 'zonectl';

/**
 * The cgroup of a project's supervisors, beside the project's own (TOP/PROJECT.supervisors):
 * outside it, so that the global zone's limits cap the zones and nothing else. A project name
 * has no dot (config/load.ts), so no project is ever named so.
 */
export function supervisorsName(project: string): string {
  return `${project}.supervisors`;
}

/** Whether an entry of TOP is a project's cgroup (not a project's supervisors'). */
export function isProjectEntry(name: string): boolean {
  return !name.includes('.');
}
