// The NetDriver over the kernel: rtnetlink through the addon (one batch per namespace and
// step, so plumbing a zone costs a handful of thread hops, no processes), sysctls under
// /proc/sys/net, and nft for the per-project table.
//
// Reading the host's links is a dump of every interface (O(zones) of them), so it is done once
// per up, not once per zone: observe() keeps its host snapshot, indexed, and each zone's
// convergeZone that follows reads its own links there (a zone's links change only through
// this driver, and each call marks the zone as no longer served by that snapshot). A zone
// converged a second time, or converged without an observe before it, dumps afresh.

import type { ObservedAttachment } from '../../model/actual.js';
import { formatIpv4, gatewayOf, parseCidr, type Cidr } from '../../model/ipv4.js';
import { bridgeName, IFNAME_PREFIX, vethHostName } from '../../model/names.js';
import type { Bandwidth, Network } from '../../model/types.js';
import { IFF_UP, netExec, netSnapshot, netSnapshots, TC_H_ROOT, type LinkInfo, type NetOp, type NetSnapshot } from '../../native/net.js';
import { SysError } from '../../native/index.js';
import { HostError } from '../errors.js';
import type { NetDriver, NetObservation, ObservedNetwork, ProjectRules, ResolvedAttachment } from './driver.js';
import { bridgeAlias, ownerOf, vethAlias, zoneIfname } from './naming.js';
import { NftTables } from './nft.js';
import { tbfFor } from './shaping.js';

const RT_TABLE_LOCAL = 255;
const RTN_UNICAST = 1;

function cidrOf(network: Network): Cidr {
  const c = parseCidr(network.subnet);
  if ('error' in c) throw new HostError(`network ${network.name}: subnet ${network.subnet} ${c.error}`);
  return c;
}

/** Run a batch, wrapping a failure with what was being done. */
async function run(netns: string | null, ops: NetOp[], what: string): Promise<void> {
  if (ops.length === 0) return;
  try {
    await netExec(netns, ops);
  } catch (cause) {
    throw new HostError(`${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

async function snapshot(netns: string | null, what: string, parts: { routes?: boolean; qdiscs?: boolean } = {}): Promise<NetSnapshot> {
  try {
    return await netSnapshot(netns, parts);
  } catch (cause) {
    throw new HostError(`${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** A network namespace netnsMake has just made: lo (always ifindex 1), up, and nothing else. */
const FRESH: NetSnapshot = {
  links: [{ index: 1, name: 'lo', kind: '', alias: '', mac: '00:00:00:00:00:00', master: 0, link: 0, linkNetnsid: -1, flags: IFF_UP, mtu: 65536 }],
  addrs: [],
  routes: [],
  qdiscs: [],
};

const noIpv6 = (ifname: string): NetOp => ({ op: 'sysctl', path: `/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`, value: '1', tolerate: ['ENOENT'] });

/** Root tbf on `ifname` at `bits` per second, or none. */
function shapeOps(ifname: string, bits: number | null, current: { rate: number } | undefined): NetOp[] {
  if (bits === null) return current ? [{ op: 'qdisc_del_root', name: ifname, tolerate: ['ENOENT', 'EINVAL'] }] : [];
  const t = tbfFor(bits);
  if (current && current.rate === t.rate) return [];
  return [{ op: 'qdisc_replace_tbf', name: ifname, ...t }];
}

function rootTbf(s: NetSnapshot, ifindex: number): { rate: number } | undefined {
  return s.qdiscs.find((q) => q.index === ifindex && q.kind === 'tbf' && q.parent === TC_H_ROOT);
}

/** The host's links and root tbfs as one project's zones need them, indexed once. */
class HostView {
  private readonly links = new Map<string, LinkInfo>();
  private readonly veths = new Map<string, { network: string; link: LinkInfo }[]>();
  private readonly tbf = new Map<number, { rate: number }>();
  /** Zones that used this view or changed since it was read: they must dump afresh. */
  private readonly served = new Set<string>();
  /** Links this run changed: the view no longer knows them. */
  private readonly forgotten = new Set<string>();

  constructor(readonly project: string, s: NetSnapshot) {
    for (const l of s.links) {
      this.links.set(l.name, l);
      const o = ownerOf(project, l.name, l.alias);
      if (o?.kind === 'veth') {
        const list = this.veths.get(o.zone);
        if (list) list.push({ network: o.network, link: l });
        else this.veths.set(o.zone, [{ network: o.network, link: l }]);
      }
    }
    for (const q of s.qdiscs) if (q.kind === 'tbf' && q.parent === TC_H_ROOT) this.tbf.set(q.index, q);
  }

  link(name: string): LinkInfo | undefined {
    return this.links.get(name);
  }
  /** The zone's host veth ends (by their owner tag). */
  zoneVeths(zone: string): { network: string; link: LinkInfo }[] {
    return this.veths.get(zone) ?? [];
  }
  rootTbf(ifindex: number): { rate: number } | undefined {
    return this.tbf.get(ifindex);
  }
  /** Once per zone: true the first time (the view still holds what the zone had), false after. */
  serve(zone: string): boolean {
    if (this.served.has(zone)) return false;
    this.served.add(zone);
    return true;
  }
  /** A link made, changed or removed by someone else than its zone's own call (a bridge). */
  forget(name: string): void {
    this.links.delete(name);
    this.forgotten.add(name);
  }
  /** The link was not there when observe read the host, and nothing of this run touched it since. */
  absent(name: string): boolean {
    return !this.links.has(name) && !this.forgotten.has(name);
  }
  forgetNetwork(network: string): void {
    for (const [zone, list] of this.veths) {
      const kept = list.filter((v) => v.network !== network);
      for (const v of list) if (v.network === network) this.links.delete(v.link.name);
      this.veths.set(zone, kept);
    }
  }
}

export class KernelNetDriver implements NetDriver {
  private readonly nft: NftTables;
  /** The host as the last observe() read it (see the note at the top). */
  private view: HostView | null = null;

  constructor(opts: { nft?: NftTables } = {}) {
    this.nft = opts.nft ?? new NftTables();
  }

  /** A dump of the host under way: observe and the host's facts ask at the same moment and share it. */
  private hostDump: Promise<NetSnapshot> | null = null;

  /** The host's links, addresses, routes and qdiscs, read now (or by a dump begun meanwhile). */
  private hostSnapshot(what: string): Promise<NetSnapshot> {
    this.hostDump ??= snapshot(null, what, { routes: true, qdiscs: true }).finally(() => {
      this.hostDump = null;
    });
    return this.hostDump;
  }

  /** The host's links for one call about `zone`: observe()'s, the first time, else a fresh dump. */
  private async hostFor(project: string, zone: string, what: string): Promise<HostView> {
    if (this.view?.project === project && this.view.serve(zone)) return this.view;
    const fresh = new HostView(project, await snapshot(null, what, { qdiscs: true }));
    fresh.serve(zone);
    return fresh;
  }

  /** `zone`'s links change outside hostFor's view: a later call must not trust it. */
  private touched(project: string, zone: string): void {
    if (this.view?.project === project) this.view.serve(zone);
  }

  async ensureNetwork(project: string, network: Network): Promise<void> {
    const br = bridgeName(project, network.name);
    const what = `network ${network.name}: bridge ${br}`;
    // a bridge observe found missing (a first up) is made without another dump of the host
    const missing = this.view?.project === project && this.view.absent(br);
    const host = missing ? { links: [], addrs: [] } : await snapshot(null, what);
    const link = host.links.find((l) => l.name === br);
    const ops: NetOp[] = [];
    if (!link) ops.push({ op: 'link_add_bridge', name: br });
    else if (link.kind !== 'bridge') throw new HostError(`${what}: ${br} exists and is a ${link.kind || 'device'}, not a bridge`, { code: 'EEXIST' });
    const alias = bridgeAlias(project, network.name);
    if (!link || link.alias !== alias) ops.push({ op: 'link_set_alias', name: br, alias });
    ops.push(noIpv6(br));
    // Lets the host reach its ports published on 127.0.0.1 (the packet is masqueraded by the table).
    ops.push({ op: 'sysctl', path: `/proc/sys/net/ipv4/conf/${br}/route_localnet`, value: network.gateway ? '1' : '0' });
    const cidr = cidrOf(network);
    const want = network.gateway ? formatIpv4(gatewayOf(cidr)) : null;
    for (const a of host.addrs.filter((x) => link && x.index === link.index)) {
      if (a.address !== want || a.prefix !== cidr.prefix) ops.push({ op: 'addr_del', name: br, address: a.address, prefix: a.prefix, tolerate: ['EADDRNOTAVAIL'] });
    }
    if (want !== null) ops.push({ op: 'addr_add', name: br, address: want, prefix: cidr.prefix });
    if (!link || (link.flags & IFF_UP) === 0) ops.push({ op: 'link_set_up', name: br });
    if (this.view?.project === project) this.view.forget(br);
    await run(null, ops, what);
  }

  async removeNetwork(project: string, network: string): Promise<void> {
    const host = await snapshot(null, `remove network ${network}`);
    const ops: NetOp[] = [];
    for (const l of host.links) {
      const o = ownerOf(project, l.name, l.alias);
      if (o?.kind === 'veth' && o.network === network) ops.push({ op: 'link_del', name: l.name, tolerate: ['ENODEV'] });
    }
    ops.push({ op: 'link_del', name: bridgeName(project, network), tolerate: ['ENODEV'] });
    if (this.view?.project === project) {
      this.view.forget(bridgeName(project, network));
      this.view.forgetNetwork(network);
    }
    await run(null, ops, `remove network ${network}`);
  }

  async attach(project: string, zone: string, netns: string, network: Network, att: ResolvedAttachment, opts: { defaultRoute: boolean }): Promise<void> {
    const host = await this.hostFor(project, zone, `zone ${zone}: attach to network ${network.name}`);
    await this.plug(host, project, zone, netns, network, att, { ...opts, fresh: null });
  }

  /**
   * attach(), with the host's links read by the caller; `dropDefault`: also delete the zone's
   * default route (in the same batch). `fresh`: the namespace was just made, so its links are
   * not read: lo, and the zone ends earlier plugs of the same convergeZone added (this plug adds
   * its own to the list); null: read them.
   */
  private async plug(host: HostView, project: string, zone: string, netns: string, network: Network, att: ResolvedAttachment, opts: { defaultRoute: boolean; dropDefault?: boolean; fresh: string[] | null }): Promise<void> {
    const hv = vethHostName(project, zone, network.name);
    const what = `zone ${zone}: attach to network ${network.name} (${hv})`;
    const cidr = cidrOf(network);
    const inside = opts.fresh ? FRESH : await snapshot(netns, `${what}: read netns ${netns}`, { qdiscs: true });

    // The host end, and its peer in this zone's namespace (a leftover pair is replaced).
    let hostEnd = host.link(hv);
    let peer = hostEnd ? peerOf(hostEnd, inside.links) : undefined;
    if (hostEnd && !peer) {
      await run(null, [{ op: 'link_del', name: hv, tolerate: ['ENODEV'] }], `${what}: remove a stale veth`);
      hostEnd = undefined;
    }
    let zoneName = peer?.name;
    // The host end (the pair first when it is new): owner tag, no IPv6, on the bridge, the
    // clsact qdisc of its anti-spoofing filter, shaping toward the zone.
    const hostOps: NetOp[] = [];
    if (!hostEnd) {
      zoneName = zoneIfname(network.name, new Set([...inside.links.map((l) => l.name), ...(opts.fresh ?? [])]));
      opts.fresh?.push(zoneName);
      hostOps.push({ op: 'link_add_veth', name: hv, peer: zoneName, peerNetns: netns, peerMac: att.mac });
    }
    const br = bridgeName(project, network.name);
    if (!hostEnd || hostEnd.alias !== vethAlias(project, zone, network.name)) hostOps.push({ op: 'link_set_alias', name: hv, alias: vethAlias(project, zone, network.name) });
    if (!hostEnd) hostOps.push(noIpv6(hv));
    const brLink = host.link(br);
    if (!hostEnd || !brLink || hostEnd.master !== brLink.index) hostOps.push({ op: 'link_set_master', name: hv, master: br });
    hostOps.push({ op: 'qdisc_add_clsact', name: hv }, ...shapeOps(hv, att.bandwidth.ingress, hostEnd ? host.rootTbf(hostEnd.index) : undefined));
    const filter: NetOp = { op: 'filter_replace_antispoof', name: hv, mac: att.mac, address: att.address, confine: !network.gateway, subnet: formatIpv4(cidr.base), prefix: cidr.prefix };

    // The zone's end: MAC, the one address, shaping out of the zone; then up, with loopback and
    // the default route.
    const name = zoneName!;
    const zoneOps: NetOp[] = [];
    if (peer && peer.mac !== att.mac) zoneOps.push({ op: 'link_set_mac', name, mac: att.mac });
    for (const a of inside.addrs.filter((x) => peer && x.index === peer.index)) {
      if (a.address !== att.address || a.prefix !== cidr.prefix) zoneOps.push({ op: 'addr_del', name, address: a.address, prefix: a.prefix, tolerate: ['EADDRNOTAVAIL'] });
    }
    zoneOps.push({ op: 'addr_add', name, address: att.address, prefix: cidr.prefix }, ...shapeOps(name, att.bandwidth.egress, peer ? rootTbf(inside, peer.index) : undefined));
    const zoneUp: NetOp[] = [];
    if (!peer || (peer.flags & IFF_UP) === 0) zoneUp.push({ op: 'link_set_up', name });
    const lo = inside.links.find((l) => l.name === 'lo');
    if (!lo || (lo.flags & IFF_UP) === 0) zoneUp.push({ op: 'link_set_up', name: 'lo' });
    if (opts.defaultRoute && network.gateway) zoneUp.push({ op: 'route_replace_default', name, gateway: formatIpv4(gatewayOf(cidr)) });
    if (opts.dropDefault) zoneUp.push({ op: 'route_del_default', tolerate: ['ESRCH'] });
    const hostUp: NetOp[] = !hostEnd || (hostEnd.flags & IFF_UP) === 0 ? [{ op: 'link_set_up', name: hv }] : [];

    // One batch on one thread, moving between the two namespaces. The anti-spoofing filter
    // comes after the zone end's address, not right after its clsact qdisc: a qdisc's first
    // filter waits for an RCU grace period since the qdisc was made (mini_qdisc_pair_swap), and
    // meanwhile one has often passed. The ends come up last, the host's (only once its filter
    // is on) a moment after the zone's, so that the pair has carrier as soon as it is up: an
    // end up while its peer is down has none, and linkwatch deactivates it, an expedited RCU
    // grace period while holding rtnl_lock, which every link being made waits for.
    const home: NetOp = { op: 'enter', netns: null };
    const inZone: NetOp = { op: 'enter', netns };
    const upInZone = zoneUp.length > 0 ? [inZone, ...zoneUp, home] : []; // nothing to do there on an update of a running pair
    await run(null, [...hostOps, inZone, ...zoneOps, home, filter, ...upInZone, ...hostUp], what);
  }

  async detach(project: string, zone: string, _netns: string, network: string): Promise<void> {
    this.touched(project, zone);
    const hv = vethHostName(project, zone, network);
    await run(null, [{ op: 'link_del', name: hv, tolerate: ['ENODEV'] }], `zone ${zone}: detach from network ${network} (${hv})`);
  }

  async setBandwidth(project: string, zone: string, netns: string, network: string, bandwidth: Bandwidth): Promise<void> {
    const hv = vethHostName(project, zone, network);
    const what = `zone ${zone}: bandwidth on network ${network}`;
    this.touched(project, zone);
    const [host, inside] = await Promise.all([snapshot(null, what, { qdiscs: true }), snapshot(netns, what, { qdiscs: true })]);
    const hostEnd = host.links.find((l) => l.name === hv);
    if (!hostEnd) throw new HostError(`${what}: ${hv} does not exist`, { code: 'ENODEV' });
    const peer = peerOf(hostEnd, inside.links);
    if (!peer) throw new HostError(`${what}: the peer of ${hv} is not in ${netns}`, { code: 'ENODEV' });
    await run(null, shapeOps(hv, bandwidth.ingress, rootTbf(host, hostEnd.index)), `${what} (${hv})`);
    await run(netns, shapeOps(peer.name, bandwidth.egress, rootTbf(inside, peer.index)), `${what} (${peer.name} inside the zone)`);
  }

  async convergeZone(project: string, zone: string, netns: string, want: Record<string, { network: Network; attachment: ResolvedAttachment }>, opts: { fresh?: boolean } = {}): Promise<void> {
    const host = await this.hostFor(project, zone, `zone ${zone}: networks`);
    for (const v of host.zoneVeths(zone)) if (!want[v.network]) await this.detach(project, zone, netns, v.network);
    const names = Object.keys(want).sort();
    const routed = names.find((n) => want[n]!.network.gateway) ?? null;
    // a fresh namespace is not read (a netlink dump through a thread in it, ~1-3 ms on the
    // critical path of a zone's start): its links are lo and what the plugs below add
    const fresh = opts.fresh === true ? [] : null;
    // Each plug brings lo up; the last one also drops a default route no network gives any more.
    for (const n of names) await this.plug(host, project, zone, netns, want[n]!.network, want[n]!.attachment, { defaultRoute: n === routed, dropDefault: routed === null && n === names.at(-1), fresh });
    if (names.length === 0) await run(netns, [{ op: 'link_set_up', name: 'lo' }, { op: 'route_del_default', tolerate: ['ESRCH'] }], `zone ${zone}: loopback and default route`);
  }

  async observe(project: string, netns: Record<string, string>): Promise<NetObservation> {
    const host = await this.hostSnapshot(`observe project ${project}`);
    this.view = new HostView(project, host);
    const out: NetObservation = { networks: {}, zones: {}, orphans: [] };
    const veths: { zone: string; network: string; link: LinkInfo }[] = [];
    const bridges = new Map<string, number>();
    for (const l of host.links) {
      const o = ownerOf(project, l.name, l.alias);
      if (o?.kind === 'bridge') {
        bridges.set(o.network, l.index);
        const a = host.addrs.find((x) => x.index === l.index);
        const n: ObservedNetwork = { name: o.network, bridge: l.name, up: (l.flags & IFF_UP) !== 0, gateway: a ? `${a.address}/${a.prefix}` : null };
        out.networks[o.network] = n;
      } else if (o?.kind === 'veth') {
        veths.push({ zone: o.zone, network: o.network, link: l });
      }
    }
    const zones = [...new Set(veths.map((v) => v.zone))].sort();
    // every zone's namespace read in one call per CPU
    const held = zones.filter((z) => netns[z] !== undefined);
    const snapshots = new Map((await netSnapshots(held.map((z) => netns[z]!), { qdiscs: true })).map((r, i) => [held[i]!, r]));
    for (const zone of zones) {
      const r = snapshots.get(zone);
      if (r instanceof SysError && r.code !== 'ENOENT') throw new HostError(`observe zone ${zone}: read netns ${netns[zone]}`, { cause: r });
      const inside: NetSnapshot | null = r === undefined || r instanceof SysError ? null : r;
      for (const v of veths.filter((x) => x.zone === zone)) {
        const peer = inside ? peerOf(v.link, inside.links) : undefined;
        // Not on its network's bridge (the bridge was deleted, and maybe made again): not
        // plugged in, whatever its addresses say; attach plugs it in again.
        if (!inside || !peer || v.link.master !== bridges.get(v.network)) {
          out.orphans.push({ zone, network: v.network, ifname: v.link.name });
          continue;
        }
        const addr = inside.addrs.find((a) => a.index === peer.index);
        const ingress = rootTbf(host, v.link.index);
        const egress = rootTbf(inside, peer.index);
        const att: ObservedAttachment = {
          address: addr?.address ?? '',
          mac: peer.mac,
          bandwidth: { ingress: ingress ? ingress.rate * 8 : null, egress: egress ? egress.rate * 8 : null },
        };
        (out.zones[zone] ??= {})[v.network] = att;
      }
    }
    out.orphans.sort((a, b) => (a.ifname < b.ifname ? -1 : a.ifname > b.ifname ? 1 : 0));
    return out;
  }

  async hostRoutes(): Promise<string[]> {
    const host = await this.hostSnapshot('read host routes');
    const ours = new Set(host.links.filter((l) => l.name.startsWith(IFNAME_PREFIX)).map((l) => l.index));
    const out = new Set<string>();
    for (const r of host.routes) {
      if (r.table === RT_TABLE_LOCAL || r.type !== RTN_UNICAST || ours.has(r.oif)) continue;
      out.add(`${r.dst}/${r.prefix}`);
    }
    return [...out].sort();
  }

  async applyRules(project: string, rules: ProjectRules): Promise<void> {
    await this.nft.apply(project, rules);
  }

  async removeProject(project: string): Promise<void> {
    if (this.view?.project === project) this.view = null;
    const host = await snapshot(null, `remove project ${project}`);
    const owned = host.links.map((l) => ({ l, o: ownerOf(project, l.name, l.alias) })).filter((x) => x.o !== null);
    // Veths first (their bridge may go with them), then bridges.
    owned.sort((a, b) => (a.o!.kind === b.o!.kind ? 0 : a.o!.kind === 'veth' ? -1 : 1));
    await run(null, owned.map(({ l }) => ({ op: 'link_del', name: l.name, tolerate: ['ENODEV'] }) as NetOp), `remove project ${project}`);
    await this.nft.remove(project);
  }
}

/** The zone end of a host veth: the link in the zone's namespace that each end names as its peer. */
function peerOf(hostEnd: LinkInfo, inside: LinkInfo[]): LinkInfo | undefined {
  if (hostEnd.linkNetnsid < 0) return undefined;
  return inside.find((l) => l.index === hostEnd.link && l.link === hostEnd.index && l.kind === 'veth' && l.linkNetnsid >= 0);
}
