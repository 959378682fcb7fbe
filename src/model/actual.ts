// The observed state: what the host runs now, read from the kernel each time, plus the
// records zonectl keeps for what the kernel cannot tell. Plain data, produced by
// reconcile/observe, consumed by the pure planner.

import type { Bandwidth, Limits, Network, Zone } from './types.js';

export type ZoneRunState = 'running' | 'exited' | 'restarting' | 'stopped';

/** A network attachment as found in the kernel. */
export interface ObservedAttachment {
  address: string;
  mac: string;
  bandwidth: Bandwidth;
}

export interface ActualZone {
  name: string;
  state: ZoneRunState;
  /** Host pid of the zone's pid 1 when running. */
  pid: number | null;
  exit_code: number | null;
  /** ISO 8601. */
  started_at: string | null;
  /** The zone as last applied (from the record): the truth for fields the kernel cannot tell. */
  applied: Zone | null;
  /** Limits read back from the zone's cgroup; null when it has none. */
  limits: Limits | null;
  /** Keyed by network name. */
  networks: Record<string, ObservedAttachment>;
  /** Current memory usage in bytes (for the "cap below usage" check); null when unknown. */
  memory_current: number | null;
}

export interface ActualNetwork {
  /** As last applied (from the record, checked against the bridge found in the kernel). */
  network: Network;
  /** False when the record exists but the bridge is gone (it will be recreated). */
  present: boolean;
}

/** Facts about the host the planner needs for its checks. */
export interface HostFacts {
  /** Online CPUs. */
  cpus: number[];
  /** Routes of the host not owned by zonectl, as CIDRs (a new subnet must not overlap them). */
  routes: string[];
  /**
   * Whether nftables (libnftables) is there: a segment with a gateway needs it (its isolation,
   * egress NAT, published ports). null: not looked for, because nothing desired needs it
   * (loading the library costs ~2 ms of CPU).
   */
  nft: boolean | null;
}

export interface ActualState {
  project: string;
  /** Project-level limits read back (the global zone's cgroup); null when it does not exist. */
  global: { limits: Limits } | null;
  networks: Record<string, ActualNetwork>;
  zones: Record<string, ActualZone>;
  host: HostFacts;
}

export function emptyActual(project: string, host: HostFacts): ActualState {
  return { project, global: null, networks: {}, zones: {}, host };
}
