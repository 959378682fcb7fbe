// What the per-project nftables table needs, from the plan's resolved zones: each zone's
// published ports with the address it has on its first gateway network (by name).

import type { ProjectRules } from '../host/net/driver.js';
import type { Network, Zone } from '../model/types.js';

export function projectRules(zones: Record<string, Zone>, networks: Record<string, Network>): ProjectRules {
  const published: ProjectRules['published'] = [];
  for (const z of Object.values(zones)) {
    if (z.ports.length === 0) continue;
    const gw = Object.keys(z.networks).sort().find((n) => networks[n]?.gateway);
    const address = gw === undefined ? null : z.networks[gw]!.address;
    if (address) published.push({ zone: z.name, address, ports: z.ports });
  }
  return { networks, published };
}

/** The networks a zone should be on, with everything the network driver needs. */
export function zoneAttachments(zone: Zone, networks: Record<string, Network>) {
  return Object.fromEntries(
    Object.entries(zone.networks).flatMap(([name, a]) =>
      networks[name] && a.address && a.mac ? [[name, { network: networks[name]!, attachment: { address: a.address, mac: a.mac, bandwidth: a.bandwidth } }] as const] : [],
    ),
  );
}
