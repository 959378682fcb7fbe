// A whole host in memory, for reconcile tests without root: the fake cgroup, zone and network
// drivers wired together as the kernel ties them (a zone's veths vanish with its network
// namespace), and the real StateStore on a temporary directory.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostFacts } from '../../model/actual.js';
import type { Host } from '../index.js';
import { FakeNetDriver } from '../net/fake.js';
import { StateStore } from '../state/store.js';
import { FakeCgroupDriver } from './cgroup.js';
import { FakeZoneDriver } from './zone.js';

export { FakeCgroupDriver, type FakeCgroupCall } from './cgroup.js';
export { FakeZoneDriver, type FakeZoneCall, type FakeZoneFailure, type FakeZoneRecord } from './zone.js';

export interface FakeHost extends Host {
  cgroup: FakeCgroupDriver;
  zones: FakeZoneDriver;
  net: FakeNetDriver;
  /** The StateStore's root (a temporary directory). */
  runDir: string;
  /** Online CPUs the host reports. */
  cpus: number[];
  /** Removes the temporary directory. */
  dispose(): Promise<void>;
}

export interface FakeHostOptions {
  cpus?: number[];
  /** The first time now() returns; each call advances it by one second. */
  start?: Date;
}

export async function fakeHost(opts: FakeHostOptions = {}): Promise<FakeHost> {
  const runDir = await mkdtemp(join(tmpdir(), 'zonectl-fakehost-'));
  const state = new StateStore(runDir);
  let t = (opts.start ?? new Date('2026-01-01T00:00:00Z')).getTime();
  const now = (): Date => new Date((t += 1000));
  const cgroup = new FakeCgroupDriver();
  const net = new FakeNetDriver();
  const zones = new FakeZoneDriver({
    now,
    // The last reference to the namespace is gone: the kernel deletes its veth pairs.
    onNetnsGone: (project, zone) => net.zones.get(project)?.delete(zone),
  });
  const host: FakeHost = {
    cgroup,
    zones,
    net,
    state,
    runDir,
    cpus: opts.cpus ?? [0, 1, 2, 3],
    facts: async (o): Promise<HostFacts> => ({ cpus: [...host.cpus], routes: await net.hostRoutes(), nft: o.nft ? true : null }),
    now,
    dispose: () => rm(runDir, { recursive: true, force: true }),
  };
  return host;
}
