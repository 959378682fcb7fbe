// The network driver: segments (one bridge per network), a veth pair per (zone, network),
// addresses, the default route, bandwidth shaping and anti-spoofing, and the per-project
// nftables table for NAT and published ports. Two implementations: the kernel one over the
// addon's rtnetlink (kernel.ts) and an in-memory fake that records calls (fake.ts).
//
// Kernel objects carry their owner in their alias (IFLA_IFALIAS), so observe() finds the
// project's objects from the kernel alone:
//   bridge      bridgeName(project, network)         alias zonectl/PROJECT/NETWORK
//   host veth   vethHostName(project, zone, network)  alias zonectl/PROJECT/ZONE/NETWORK
//   zone end    named after the network inside the zone's netns (eth<N> when it cannot be)

import type { ObservedAttachment } from '../../model/actual.js';
import type { Bandwidth, Network, Port } from '../../model/types.js';

/** An attachment after IPAM: every field decided. */
export interface ResolvedAttachment {
  address: string;
  mac: string;
  bandwidth: Bandwidth;
}

/** One network as found in the kernel. */
export interface ObservedNetwork {
  name: string;
  bridge: string;
  up: boolean;
  /** The host's address on the segment as `ADDR/PREFIX`, or null (no gateway). */
  gateway: string | null;
}

export interface NetObservation {
  /** Keyed by network name. */
  networks: Record<string, ObservedNetwork>;
  /** zone → network → the attachment read from both ends of its veth. */
  zones: Record<string, Record<string, ObservedAttachment>>;
  /** Host ends of the project's veths whose zone was not given (or whose netns is gone), or that are not on their network's bridge. */
  orphans: { zone: string; network: string; ifname: string }[];
}

/** What the per-project nftables table needs to know. */
export interface ProjectRules {
  /** Desired networks, keyed by name. */
  networks: Record<string, Network>;
  /** Published ports of each zone, with the address it has on its first gateway network. */
  published: { zone: string; address: string; ports: Port[] }[];
}

export interface NetDriver {
  /** Bridge present, owned, up; the gateway address on it iff `network.gateway`. Idempotent. */
  ensureNetwork(project: string, network: Network): Promise<void>;
  /** The bridge and every host veth of the project on it. Idempotent. */
  removeNetwork(project: string, network: string): Promise<void>;
  /**
   * Plug a zone into a network, or bring an existing plug to `attachment` (address, MAC,
   * bandwidth, anti-spoofing). `defaultRoute`: also route the zone's default via this
   * network's gateway. Idempotent; a running zone keeps running.
   */
  attach(project: string, zone: string, netns: string, network: Network, attachment: ResolvedAttachment, opts: { defaultRoute: boolean }): Promise<void>;
  /** Unplug (deletes the veth pair). Idempotent. */
  detach(project: string, zone: string, netns: string, network: string): Promise<void>;
  /** Reshape both ends in place. */
  setBandwidth(project: string, zone: string, netns: string, network: string, bandwidth: Bandwidth): Promise<void>;
  /**
   * The whole of a zone's networking: detach what is not wanted, attach or fix what is,
   * loopback up, default route via the first gateway network by name (or none). `fresh`: the
   * namespace was just made (prepareNetwork's `made`: only lo, up), so its links are known
   * without reading them.
   */
  convergeZone(project: string, zone: string, netns: string, want: Record<string, { network: Network; attachment: ResolvedAttachment }>, opts?: { fresh?: boolean }): Promise<void>;
  /** Read the project's networks and attachments back from the kernel. `netns`: zone → the path of its network namespace, for the zones that have one. */
  observe(project: string, netns: Record<string, string>): Promise<NetObservation>;
  /** The host's IPv4 routes not through zonectl's interfaces (zn*), as CIDRs, sorted. */
  hostRoutes(): Promise<string[]>;
  /** Replace the project's nftables table atomically (removing it when nothing needs it). */
  applyRules(project: string, rules: ProjectRules): Promise<void>;
  /** Every link, and the nftables table, of the project. Idempotent. */
  removeProject(project: string): Promise<void>;
}
