// The one factory: detects the host's cgroup layout and returns the matching driver.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, HostError } from '../errors.js';
import type { DriverDeps } from './deps.js';
import { TOP } from './deps.js';
import type { CgroupLayout } from './detect.js';
import { detectCgroupLayout, rebaseLayout, serviceHierarchies } from './detect.js';
import type { DeviceResolver } from './devices.js';
import { hostDevices } from './devices.js';
import type { CgroupDriver, CgroupDriverTimings } from './driver.js';
import { DEFAULT_TIMINGS } from './driver.js';
import type { CgroupFs } from './fs.js';
import { nodeCgroupFs } from './fs.js';
import type { Signaller } from './removal.js';
import { hostSignaller } from './removal.js';
import { CgroupV1Driver } from './v1.js';
import { CgroupV2Driver } from './v2.js';

export type { ApplyReport, CgroupDriver, LimitOutcome, LimitStatus, Usage, ZoneName } from './driver.js';
export type { CgroupLayout } from './detect.js';

export interface CgroupDriverOptions {
  /**
   * Where the hierarchies are (tests, `--cgroup-root`): the unified mount itself, or the
   * directory holding the v1 controller mounts (`ROOT/memory`, `ROOT/cpu`...).
   */
  root?: string;
  /** The mount table to detect the layout from; default /proc/self/mountinfo. */
  mountinfo?: string;
  fs?: CgroupFs;
  devices?: DeviceResolver;
  signal?: Signaller;
  timings?: Partial<CgroupDriverTimings>;
  pageSize?: number;
  /** Default: whether /proc/swaps lists a device. */
  hostHasSwap?: boolean;
  /** Default: probed (v1 memory.memsw.limit_in_bytes at the root; v2 memory.swap.max beside a memory.max). */
  swapAccounting?: boolean;
}

/** /proc files: read at once, no round trips through libuv's pool. */
function readHostFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new HostError(`read ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
  }
}

async function probeSwapAccounting(layout: CgroupLayout, fs: CgroupFs): Promise<boolean> {
  if (layout.mode !== 'unified') {
    const memory = layout.v1.memory;
    return memory !== undefined && (await fs.exists(join(memory, 'memory.memsw.limit_in_bytes')));
  }
  // The root cgroup has no memory.max: look beside one in a child (ours first).
  const candidates = [join(layout.unified, TOP), ...(await fs.subdirs(layout.unified)).map((d) => join(layout.unified, d))];
  for (const dir of candidates) {
    if (await fs.exists(join(dir, 'memory.max'))) return fs.exists(join(dir, 'memory.swap.max'));
  }
  return true;
}

export function layoutOf(mountinfo: string, root?: string): CgroupLayout {
  const layout = detectCgroupLayout(mountinfo);
  return root === undefined ? layout : rebaseLayout(layout, root);
}

export async function createCgroupDriver(options: CgroupDriverOptions = {}): Promise<CgroupDriver> {
  const layout = layoutOf(options.mountinfo ?? readHostFile('/proc/self/mountinfo'), options.root);
  const fs = options.fs ?? nodeCgroupFs;
  const deps: DriverDeps = {
    fs,
    devices: options.devices ?? hostDevices,
    signal: options.signal ?? hostSignaller,
    timings: { ...DEFAULT_TIMINGS, ...options.timings },
    pageSize: options.pageSize ?? 4096,
    hostHasSwap: options.hostHasSwap ?? readHostFile('/proc/swaps').trim().split('\n').length > 1,
    swapAccounting: options.swapAccounting ?? (await probeSwapAccounting(layout, fs)),
  };
  return layout.mode === 'unified' ? new CgroupV2Driver(layout.unified, deps) : new CgroupV1Driver(layout.v1, deps, serviceHierarchies(layout));
}
