// Drivers on fake trees, and the limit values the tests use.

import type { CgroupDriver } from '../../../src/host/cgroup/driver.js';
import { createCgroupDriver } from '../../../src/host/cgroup/index.js';
import type { Limits } from '../../../src/model/types.js';
import type { FakeOptions } from './fake-cgroupfs.js';
import { FAKE_DEVICES, FakeCgroupFs } from './fake-cgroupfs.js';

export const MiB = 1024 * 1024;

export function neutral(): Limits {
  return { cpus: null, cpu_weight: 100, cpuset: null, memory: null, memory_swap: 0, memory_reservation: null, pids: null, io: { weight: 100, devices: {} } };
}

export function limits(patch: Partial<Limits>): Limits {
  return { ...neutral(), ...patch };
}

export interface FakeSetup {
  fake: FakeCgroupFs;
  driver: CgroupDriver;
}

/** A driver on a new fake tree, or (`existing`) on the tree of an earlier one: the next run's. */
export async function fakeDriver(options: FakeOptions & { hostHasSwap?: boolean; reclaimTimeoutMs?: number }, existing?: FakeCgroupFs): Promise<FakeSetup> {
  const fake = existing ?? new FakeCgroupFs(options);
  const driver = await createCgroupDriver({
    root: fake.root,
    mountinfo: fake.mountinfo(),
    fs: fake,
    devices: FAKE_DEVICES,
    signal: (pid) => fake.killPid(pid),
    timings: { reclaimTimeoutMs: options.reclaimTimeoutMs ?? 200, removeTimeoutMs: 500, pollMs: 10 },
    hostHasSwap: options.hostHasSwap ?? false,
    swapAccounting: options.swapAccounting ?? true,
  });
  return { fake, driver };
}
