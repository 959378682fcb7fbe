// An in-memory NetDriver for reconcile tests: it keeps the state the kernel would have, so
// observe() reads back what was applied, and records every call in order.

import type { ObservedAttachment } from '../../model/actual.js';
import { formatIpv4, gatewayOf, parseCidr } from '../../model/ipv4.js';
import { bridgeName, vethHostName } from '../../model/names.js';
import type { Bandwidth, Network } from '../../model/types.js';
import { HostError } from '../errors.js';
import type { NetDriver, NetObservation, ProjectRules, ResolvedAttachment } from './driver.js';
import { canonicalRate } from './shaping.js';

export type FakeNetCall =
  | { call: 'ensureNetwork'; project: string; network: string }
  | { call: 'removeNetwork'; project: string; network: string }
  | { call: 'attach'; project: string; zone: string; network: string; address: string; mac: string; defaultRoute: boolean }
  | { call: 'detach'; project: string; zone: string; network: string }
  | { call: 'setBandwidth'; project: string; zone: string; network: string; bandwidth: Bandwidth }
  | { call: 'convergeZone'; project: string; zone: string; networks: string[] }
  | { call: 'applyRules'; project: string }
  | { call: 'removeProject'; project: string };

interface FakeZone {
  netns: string;
  attachments: Record<string, ObservedAttachment>;
  defaultVia: string | null;
  /** network → the bridge (its Network object) each veth is plugged into, as the kernel's master. */
  plugged?: Record<string, Network>;
}

export class FakeNetDriver implements NetDriver {
  readonly calls: FakeNetCall[] = [];
  /** project → network → the network as ensured. */
  readonly networks = new Map<string, Map<string, Network>>();
  /** project → zone → its plugs. */
  readonly zones = new Map<string, Map<string, FakeZone>>();
  readonly rules = new Map<string, ProjectRules>();
  routes: string[] = ['0.0.0.0/0', '192.0.2.0/24'];
  /** Make the next call of this kind fail with this code (then clear it). */
  failNext: { call: FakeNetCall['call']; code: string } | null = null;

  private fail(call: FakeNetCall['call'], what: string): void {
    if (this.failNext?.call !== call) return;
    const code = this.failNext.code;
    this.failNext = null;
    throw new HostError(`${what}: ${code}`, { code });
  }

  private projectZones(project: string): Map<string, FakeZone> {
    let z = this.zones.get(project);
    if (!z) this.zones.set(project, (z = new Map()));
    return z;
  }

  async ensureNetwork(project: string, network: Network): Promise<void> {
    this.calls.push({ call: 'ensureNetwork', project, network: network.name });
    this.fail('ensureNetwork', `network ${network.name}: bridge ${bridgeName(project, network.name)}`);
    let nets = this.networks.get(project);
    if (!nets) this.networks.set(project, (nets = new Map()));
    // An existing bridge is kept (its veths stay plugged in); a new one starts empty.
    const current = nets.get(network.name);
    if (current) Object.assign(current, structuredClone(network));
    else nets.set(network.name, structuredClone(network));
  }

  async removeNetwork(project: string, network: string): Promise<void> {
    this.calls.push({ call: 'removeNetwork', project, network });
    this.fail('removeNetwork', `remove network ${network}`);
    this.networks.get(project)?.delete(network);
    for (const z of this.projectZones(project).values()) delete z.attachments[network];
  }

  async attach(project: string, zone: string, netns: string, network: Network, a: ResolvedAttachment, opts: { defaultRoute: boolean }): Promise<void> {
    this.calls.push({ call: 'attach', project, zone, network: network.name, address: a.address, mac: a.mac, defaultRoute: opts.defaultRoute });
    this.fail('attach', `zone ${zone}: attach to network ${network.name} (${vethHostName(project, zone, network.name)})`);
    if (!this.networks.get(project)?.has(network.name)) {
      throw new HostError(`zone ${zone}: attach to network ${network.name}: set master: ENODEV`, { code: 'ENODEV' });
    }
    const zones = this.projectZones(project);
    const z = zones.get(zone) ?? { netns, attachments: {}, defaultVia: null };
    z.netns = netns;
    z.attachments[network.name] = { address: a.address, mac: a.mac, bandwidth: { ingress: canonicalRate(a.bandwidth.ingress), egress: canonicalRate(a.bandwidth.egress) } };
    (z.plugged ??= {})[network.name] = this.networks.get(project)!.get(network.name)!;
    if (opts.defaultRoute && network.gateway) {
      const c = parseCidr(network.subnet);
      if (!('error' in c)) z.defaultVia = formatIpv4(gatewayOf(c));
    }
    zones.set(zone, z);
  }

  async detach(project: string, zone: string, _netns: string, network: string): Promise<void> {
    this.calls.push({ call: 'detach', project, zone, network });
    this.fail('detach', `zone ${zone}: detach from network ${network}`);
    const z = this.projectZones(project).get(zone);
    if (z) delete z.attachments[network];
  }

  async setBandwidth(project: string, zone: string, _netns: string, network: string, bandwidth: Bandwidth): Promise<void> {
    this.calls.push({ call: 'setBandwidth', project, zone, network, bandwidth });
    this.fail('setBandwidth', `zone ${zone}: bandwidth on network ${network}`);
    const a = this.projectZones(project).get(zone)?.attachments[network];
    if (!a) throw new HostError(`zone ${zone}: bandwidth on network ${network}: ${vethHostName(project, zone, network)} does not exist`, { code: 'ENODEV' });
    a.bandwidth = { ingress: canonicalRate(bandwidth.ingress), egress: canonicalRate(bandwidth.egress) };
  }

  async convergeZone(project: string, zone: string, netns: string, want: Record<string, { network: Network; attachment: ResolvedAttachment }>, _opts: { fresh?: boolean } = {}): Promise<void> {
    const names = Object.keys(want).sort();
    this.calls.push({ call: 'convergeZone', project, zone, networks: names });
    this.fail('convergeZone', `zone ${zone}: networks`);
    const z = this.projectZones(project).get(zone);
    for (const n of Object.keys(z?.attachments ?? {}).sort()) if (!want[n]) await this.detach(project, zone, netns, n);
    const routed = names.find((n) => want[n]!.network.gateway) ?? null;
    for (const n of names) await this.attach(project, zone, netns, want[n]!.network, want[n]!.attachment, { defaultRoute: n === routed });
    const after = this.projectZones(project).get(zone);
    if (after && routed === null) after.defaultVia = null;
  }

  async observe(project: string, netns: Record<string, string>): Promise<NetObservation> {
    const out: NetObservation = { networks: {}, zones: {}, orphans: [] };
    for (const [name, n] of [...(this.networks.get(project) ?? new Map<string, Network>())].sort()) {
      const c = parseCidr(n.subnet);
      const gateway = n.gateway && !('error' in c) ? `${formatIpv4(gatewayOf(c))}/${c.prefix}` : null;
      out.networks[name] = { name, bridge: bridgeName(project, name), up: true, gateway };
    }
    for (const [zone, z] of [...this.projectZones(project)].sort()) {
      for (const [net, a] of Object.entries(z.attachments).sort()) {
        // Not on its bridge (deleted, maybe made again since): not plugged in, as the kernel shows it.
        const onBridge = z.plugged?.[net] !== undefined && z.plugged[net] === this.networks.get(project)?.get(net);
        if (netns[zone] === undefined || !onBridge) out.orphans.push({ zone, network: net, ifname: vethHostName(project, zone, net) });
        else (out.zones[zone] ??= {})[net] = structuredClone(a);
      }
    }
    return out;
  }

  /** The gateway a zone's default route goes through, or null. */
  defaultRoute(project: string, zone: string): string | null {
    return this.projectZones(project).get(zone)?.defaultVia ?? null;
  }

  async hostRoutes(): Promise<string[]> {
    return [...this.routes].sort();
  }

  async applyRules(project: string, rules: ProjectRules): Promise<void> {
    this.calls.push({ call: 'applyRules', project });
    this.fail('applyRules', `replace nftables table zonectl-${project}`);
    this.rules.set(project, structuredClone(rules));
  }

  async removeProject(project: string): Promise<void> {
    this.calls.push({ call: 'removeProject', project });
    this.fail('removeProject', `remove project ${project}`);
    this.networks.delete(project);
    this.zones.delete(project);
    this.rules.delete(project);
  }
}
