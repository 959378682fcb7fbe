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
