// The host as reconcile sees it: one driver per kind of kernel object, the records, and the
// facts the planner checks against. The one factory (createHost) picks the real drivers;
// tests pass fakes (src/host/fake/).

import { readFileSync } from 'node:fs';
import type { HostFacts } from '../model/actual.js';
import { parseCpuset } from '../model/units.js';
import type { CgroupDriver } from './cgroup/driver.js';
import type { NetDriver } from './net/driver.js';
import { NftTables } from './net/nft.js';
import { StateStore } from './state/store.js';
import type { ZoneDriver } from './zone/driver.js';

export interface Host {
  cgroup: CgroupDriver;
  zones: ZoneDriver;
  net: NetDriver;
  state: StateStore;
  /** `nft`: whether to look for nftables (else HostFacts.nft is null). */
  facts(opts: { nft: boolean }): Promise<HostFacts>;
  now(): Date;
}

export interface HostOptions {
  /** Where the cgroup hierarchies are (tests); default: detected from /proc/self/mountinfo. */
  cgroupRoot?: string;
  /** Default /run/zonectl. */
  runDir?: string;
  /** Default /var/lib/zonectl. */
  libDir?: string;
}

export async function createHost(opts: HostOptions = {}): Promise<Host> {
  const [{ createCgroupDriver }, zones, { createNetDriver }] = await Promise.all([import('./cgroup/index.js'), createZoneDriver(opts), import('./net/index.js')]);
  const cgroup = await createCgroupDriver(opts.cgroupRoot === undefined ? {} : { root: opts.cgroupRoot });
  const state = new StateStore(opts.runDir);
  const net = createNetDriver(opts.runDir === undefined ? {} : { runDir: opts.runDir });
  return { cgroup, zones, net, state, facts: (o) => hostFacts(net, o.nft), now: () => new Date() };
}

/** The zone driver alone, for the commands that only read a zone's records or enter it (logs, exec). */
export async function createZoneDriver(opts: HostOptions = {}): Promise<ZoneDriver> {
  const [{ NativeZoneDriver }, { ZonePaths }] = await Promise.all([import('./zone/native.js'), import('./zone/paths.js')]);
  return new NativeZoneDriver({ paths: new ZonePaths(opts.runDir, opts.libDir) });
}

/**
 * Online CPUs, the host's IPv4 routes (not through zonectl's own interfaces), and (`nft`)
 * whether libnftables is there: it loads (~2 ms of CPU) on a worker thread meanwhile.
 */
async function hostFacts(net: NetDriver, nft: boolean): Promise<HostFacts> {
  // sysfs: read at once, not through libuv's pool
  const online = readFileSync('/sys/devices/system/cpu/online', 'utf8');
  const [routes, hasNft] = await Promise.all([net.hostRoutes(), nft ? new NftTables().available() : null]);
  return { cpus: parseCpuset(online.trim()) ?? [], routes, nft: hasNft };
}
