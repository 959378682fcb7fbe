// Address and MAC assignment, deterministic and stable: a zone keeps the address it has;
// static addresses are honoured; the rest take the lowest free address, in zone-name order.
// Pure: the planner calls it so that the plan shows the addresses it will apply.

import type { ActualState } from '../model/actual.js';
import { broadcastOf, formatIpv4, gatewayOf, parseCidr, parseIpv4, contains, type Cidr } from '../model/ipv4.js';
import { derivedMac } from '../model/names.js';
import type { DesiredState, Zone } from '../model/types.js';
import type { Diagnostic } from './types.js';

/**
 * Zones with every attachment's address and mac filled in. Each zone and attachment is a copy
 * (`desired` is not changed); what is not filled in is shared with `desired` (a deep copy of
 * 1,000 zones was a quarter of the planner's CPU).
 */
export function resolveAttachments(desired: DesiredState, actual: ActualState, diagnostics: Diagnostic[]): Record<string, Zone> {
  const zones: Record<string, Zone> = {};
  for (const [name, z] of Object.entries(desired.zones)) {
    const networks: Zone['networks'] = {};
    for (const [net, a] of Object.entries(z.networks)) networks[net] = { ...a };
    zones[name] = { ...z, networks };
  }
  for (const [net, network] of Object.entries(desired.networks)) {
    const cidr = parseCidr(network.subnet);
    if ('error' in cidr) continue; // config validation already refused it
    const taken = new Set<number>([cidr.base, broadcastOf(cidr)]);
    if (network.gateway) taken.add(gatewayOf(cidr));
    const members = Object.values(zones).filter((z) => z.networks[net]);
    for (const z of members) {
      const a = parseIpv4(z.networks[net]!.address ?? '');
      if (a !== null) taken.add(a);
    }
    const pending: Zone[] = [];
    for (const z of members) {
      const att = z.networks[net]!;
      att.mac ??= derivedMac(desired.project, z.name, net);
      if (att.address !== null) continue;
      const kept = keepable(actual, z.name, net, cidr, taken);
      if (kept !== null) {
        taken.add(kept);
        att.address = formatIpv4(kept);
      } else pending.push(z);
    }
    let next = cidr.base + 1;
    for (const z of pending) {
      while (next < broadcastOf(cidr) && taken.has(next)) next++;
      if (next >= broadcastOf(cidr)) {
        diagnostics.push({ severity: 'error', id: `zone.${z.name}`, path: `networks.${net}`, message: `no free address left in ${network.subnet} for zone ${z.name}` });
        continue;
      }
      taken.add(next);
      z.networks[net]!.address = formatIpv4(next);
    }
  }
  return zones;
}

function keepable(actual: ActualState, zone: string, net: string, cidr: Cidr, taken: Set<number>): number | null {
  // The kernel's address first; else the one recorded when the zone was last applied.
  const z = actual.zones[zone];
  const current = z?.networks[net]?.address ?? z?.applied?.networks[net]?.address ?? undefined;
  const n = current === undefined || current === null ? null : parseIpv4(current);
  return n !== null && contains(cidr, n) && !taken.has(n) ? n : null;
}
