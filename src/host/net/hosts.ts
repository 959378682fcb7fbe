// /etc/hosts for each zone: loopback, the zone itself, and every zone it shares a segment with,
// by zone name. Pure: built from the resolved desired zones (addresses filled in by IPAM).

import type { Zone } from '../../model/types.js';

/** zone name → the text of its /etc/hosts. Zones whose addresses are not all resolved get loopback entries only for those. */
export function hostsFiles(zones: Record<string, Zone>): Record<string, string> {
  const out: Record<string, string> = {};
  const names = Object.keys(zones).sort();
  for (const name of names) {
    const zone = zones[name]!;
    const mine = Object.keys(zone.networks).sort();
    const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
    const self = [...new Set([zone.hostname, zone.name])].join(' ');
    const own = mine.map((n) => zone.networks[n]!.address).find((a): a is string => a !== null);
    lines.push(`${own ?? '127.0.1.1'}\t${self}`);
    for (const other of names) {
      if (other === name) continue;
      // The peer's address on the first segment (by name) the two share.
      const shared = mine.find((n) => zones[other]!.networks[n]?.address);
      if (shared !== undefined) lines.push(`${zones[other]!.networks[shared]!.address}\t${other}`);
    }
    out[name] = `${lines.join('\n')}\n`;
  }
  return out;
}
