// The typed surface of the addon's rtnetlink half (native/src/net_addon.cc). It loads the same
// .node file as index.ts, through index.ts, and turns failures into SysErrors there.
// A batch of operations runs in one network namespace on one native thread, in order,
// stopping at the first failure.
import { availableParallelism, constants } from 'node:os';
import { SysError, addonExports, toSysError } from './index.js';

/** One rtnetlink request (or a sysctl under /proc/sys/net of the namespace). */
export type NetOp = (
  | { op: 'link_add_bridge'; name: string }
  /** The peer is created directly inside `peerNetns` (a path to a netns file) when given. */
  | { op: 'link_add_veth'; name: string; peer: string; peerNetns?: string; peerMac?: string }
  | { op: 'link_del'; name: string }
  | { op: 'link_set_up'; name: string }
  | { op: 'link_set_down'; name: string }
  /** `master: ''` releases the link from its bridge. */
  | { op: 'link_set_master'; name: string; master: string }
  | { op: 'link_set_netns'; name: string; netns: string }
  | { op: 'link_set_name'; name: string; newName: string }
  | { op: 'link_set_mac'; name: string; mac: string }
  | { op: 'link_set_mtu'; name: string; mtu: number }
  | { op: 'link_set_alias'; name: string; alias: string }
  | { op: 'addr_add'; name: string; address: string; prefix: number }
  | { op: 'addr_del'; name: string; address: string; prefix: number }
  | { op: 'route_replace_default'; name: string; gateway: string }
  | { op: 'route_del_default' }
  /** `rate` in bytes per second; `burst` and `limit` in bytes. */
  | { op: 'qdisc_replace_tbf'; name: string; rate: number; burst: number; limit: number }
  | { op: 'qdisc_del_root'; name: string }
  | { op: 'qdisc_add_clsact'; name: string }
  /**
   * Drop frames entering `name` (the host end of a zone's veth) unless they carry `mac` and,
   * for IPv4 and ARP, `address`; other EtherTypes are dropped. With `confine`, IPv4 packets to
   * destinations outside `subnet/prefix` (other than broadcast and multicast) are dropped too.
   */
  | { op: 'filter_replace_antispoof'; name: string; mac: string; address: string; confine: boolean; subnet?: string; prefix?: number }
  | { op: 'link_dump' }
  | { op: 'addr_dump' }
  | { op: 'route_dump' }
  | { op: 'qdisc_dump' }
  /**
   * Moves the rest of the batch into the namespace at `netns` (null: back into the batch's
   * first one): one thread runs both ends of a veth pair's plumbing, with no round trip
   * through this thread between them.
   */
  | { op: 'enter'; netns: string | null }
  /** Read (and first write, when `value` is given) a file under /proc/sys/net/. */
  | { op: 'sysctl'; path: string; value?: string }
) & {
  /** Error codes that count as success for this step (it is reported as skipped). */
  tolerate?: string[];
};

export interface LinkInfo {
  index: number;
  name: string;
  /** `bridge`, `veth`...; empty for devices without rtnl link ops (lo, physical NICs). */
  kind: string;
  alias: string;
  mac: string;
  /** ifindex of the bridge it is enslaved to; 0 = none. */
  master: number;
  /** For a veth: the peer's ifindex, in the namespace `linkNetnsid` names (-1: this one). */
  link: number;
  linkNetnsid: number;
  /** IFF_* flags. */
  flags: number;
  mtu: number;
}

export interface AddrInfo {
  index: number;
  address: string;
  prefix: number;
}

export interface RouteInfo {
  /** `0.0.0.0` with prefix 0: the default route. */
  dst: string;
  prefix: number;
  /** Empty when none. */
  gateway: string;
  oif: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
}

export interface QdiscInfo {
  index: number;
  kind: string;
  handle: number;
  parent: number;
  /** tbf: bytes per second. */
  rate: number;
  /** tbf: bytes. */
  burst: number;
  /** tbf: bytes. */
  limit: number;
}

/** The result of one step: a dump, a sysctl's value, `skipped` (a tolerated error) or null. */
export type NetResult = LinkInfo[] | AddrInfo[] | RouteInfo[] | QdiscInfo[] | string | null;

export const IFF_UP = 0x1;
/** TC_H_ROOT: the parent of a root qdisc. */
export const TC_H_ROOT = 0xffffffff;

interface NetAddon {
  netExec(netns: string | null, ops: object[]): Promise<unknown[]>;
  netExecEach(netns: string[], ops: object[]): Promise<unknown[]>;
  antispoofProgram(mac: string, address: string, subnet: string | null, prefix: number): unknown;
  netnsMake(): Promise<number>;
  nftTableHandle(family: number, name: string): Promise<number>;
  nftAvailable(): Promise<boolean>;
  nftRun(commands: string): Promise<NftRun>;
}

/** What `nft -f -` would have said: ok (its exit status was 0), its output and its error messages. */
export interface NftRun {
  ok: boolean;
  output: string;
  errors: string;
}

function load(): NetAddon {
  return addonExports() as NetAddon; // the shape is fixed by native/src/net_addon.cc
}

function errnoNumber(code: string): number {
  const n = (constants.errno as Record<string, number | undefined>)[code];
  if (n === undefined) throw new TypeError(`unknown error code ${code}`);
  return n;
}

/**
 * Run `ops` in order inside the network namespace at `netns` (/proc/PID/ns/net, a
 * descriptor's /proc/self/fd/N, or any nsfs file; null: the host's), stopping at the first
 * failure, which rejects with a SysError naming the step and its object (`create veth
 * znv1a2b3c4d5e: EEXIST`).
 */
export async function netExec(netns: string | null, ops: NetOp[]): Promise<NetResult[]> {
  const raw = ops.map((o) => (o.tolerate === undefined ? o : { ...o, tolerate: o.tolerate.map(errnoNumber) }));
  let out: unknown[];
  try {
    out = await load().netExec(netns, raw);
  } catch (e) {
    throw toSysError(e);
  }
  return out.map((r, i) => decode(ops[i]!.op, r));
}

/**
 * A descriptor (close-on-exec, the caller's to close) of a fresh network namespace, with lo up
 * and net.ipv4.ping_group_range open to every group. Made on a native thread that ends
 * afterwards: no thread of this process stays in it; the namespace lives as long as the
 * descriptor or a process in it. `/proc/self/fd/N` names it for netExec and netSnapshot.
 */
export async function netnsMake(): Promise<number> {
  try {
    return await load().netnsMake();
  } catch (e) {
    throw toSysError(e);
  }
}

/** NFPROTO_INET: the `inet` family of nftables. */
export const NFPROTO_INET = 1;

/** The handle of the nftables table `name` of `family` in the host's namespace, or null when there is none (one netlink request, no `nft` process). */
export async function nftTableHandle(family: number, name: string): Promise<number | null> {
  let handle: unknown;
  try {
    handle = await load().nftTableHandle(family, name);
  } catch (e) {
    throw toSysError(e);
  }
  if (typeof handle !== 'number') throw new TypeError('nftTableHandle: expected a number');
  return handle === 0 ? null : handle;
}

let nftLoaded: Promise<boolean> | undefined;

/** Whether libnftables is on the host (the library of Debian's nftables package); loaded once, on a worker thread. */
export function nftAvailable(): Promise<boolean> {
  return (nftLoaded ??= load().nftAvailable());
}

/** Runs nft commands (its language, as `nft -f -` reads it) through libnftables, in this process. */
export async function nftRun(commands: string): Promise<NftRun> {
  try {
    return await load().nftRun(commands);
  } catch (e) {
    throw toSysError(e);
  }
}

/** The anti-spoofing classifier's instructions as [code, regs, off, imm] (no privileges needed). */
export function antispoofProgram(mac: string, address: string, confine: { subnet: string; prefix: number } | null): number[][] {
  const rows = load().antispoofProgram(mac, address, confine?.subnet ?? null, confine?.prefix ?? 0);
  if (!Array.isArray(rows)) throw new TypeError('antispoofProgram: expected an array');
  return rows.map((r: unknown) => {
    if (!Array.isArray(r) || !r.every((x: unknown) => typeof x === 'number')) throw new TypeError('antispoofProgram: bad row');
    return r as number[];
  });
}

// ---------------------------------------------------------------- decoding the addon's values

type Shape = Record<string, 'number' | 'string'>;

const LINK: Shape = { index: 'number', name: 'string', kind: 'string', alias: 'string', mac: 'string', master: 'number', link: 'number', linkNetnsid: 'number', flags: 'number', mtu: 'number' };
const ADDR: Shape = { index: 'number', address: 'string', prefix: 'number' };
const ROUTE: Shape = { dst: 'string', prefix: 'number', gateway: 'string', oif: 'number', table: 'number', protocol: 'number', scope: 'number', type: 'number' };
const QDISC: Shape = { index: 'number', kind: 'string', handle: 'number', parent: 'number', rate: 'number', burst: 'number', limit: 'number' };

function rows<T>(op: string, value: unknown, shape: Shape): T[] {
  if (!Array.isArray(value)) throw new TypeError(`netExec ${op}: expected an array`);
  for (const row of value as unknown[]) {
    if (typeof row !== 'object' || row === null) throw new TypeError(`netExec ${op}: expected objects`);
    for (const [key, type] of Object.entries(shape)) {
      if (typeof (row as Record<string, unknown>)[key] !== type) throw new TypeError(`netExec ${op}: ${key} is not a ${type}`);
    }
  }
  return value as T[];
}

function decode(op: NetOp['op'], value: unknown): NetResult {
  if (value === 'skipped') return 'skipped';
  switch (op) {
    case 'link_dump': return rows<LinkInfo>(op, value, LINK);
    case 'addr_dump': return rows<AddrInfo>(op, value, ADDR);
    case 'route_dump': return rows<RouteInfo>(op, value, ROUTE);
    case 'qdisc_dump': return rows<QdiscInfo>(op, value, QDISC);
    case 'sysctl':
      if (typeof value !== 'string') throw new TypeError('netExec sysctl: expected a string');
      return value;
    default: return null;
  }
}

/** One namespace's links, IPv4 addresses, routes and qdiscs, read in one batch. */
export interface NetSnapshot {
  links: LinkInfo[];
  addrs: AddrInfo[];
  routes: RouteInfo[];
  qdiscs: QdiscInfo[];
}

export async function netSnapshot(netns: string | null, parts: SnapshotParts = {}): Promise<NetSnapshot> {
  const ops = snapshotOps(parts);
  return snapshotOf(await netExec(netns, ops), parts);
}

/**
 * netSnapshot of each namespace in `netns`, as one call per CPU (a native thread that enters
 * the namespaces one after the other) rather than a thread per namespace. A namespace that
 * cannot be read gives its SysError in its place (ENOENT: its holder is gone).
 */
export async function netSnapshots(netns: readonly string[], parts: SnapshotParts = {}): Promise<(NetSnapshot | SysError)[]> {
  if (netns.length === 0) return [];
  const ops = snapshotOps(parts);
  const size = Math.ceil(netns.length / availableParallelism());
  const chunks: string[][] = [];
  for (let i = 0; i < netns.length; i += size) chunks.push(netns.slice(i, i + size));
  const out = await Promise.all(chunks.map(async (chunk) => {
    try {
      return await load().netExecEach(chunk, ops);
    } catch (e) {
      throw toSysError(e);
    }
  }));
  return out.flat().map((r) => {
    if (!(r instanceof Error)) return snapshotOf((r as unknown[]).map((v, i) => decode(ops[i]!.op, v)), parts);
    const e = toSysError(r);
    if (e instanceof SysError) return e;
    throw e;
  });
}

export interface SnapshotParts {
  routes?: boolean;
  qdiscs?: boolean;
}

function snapshotOps(parts: SnapshotParts): NetOp[] {
  const ops: NetOp[] = [{ op: 'link_dump' }, { op: 'addr_dump' }];
  if (parts.routes) ops.push({ op: 'route_dump' });
  if (parts.qdiscs) ops.push({ op: 'qdisc_dump' });
  return ops;
}

function snapshotOf(r: NetResult[], parts: SnapshotParts): NetSnapshot {
  let i = 2;
  return {
    links: r[0] as LinkInfo[],
    addrs: r[1] as AddrInfo[],
    routes: parts.routes ? (r[i++] as RouteInfo[]) : [],
    qdiscs: parts.qdiscs ? (r[i++] as QdiscInfo[]) : [],
  };
}
