// Names and owner tags of the network objects zonectl makes. Pure.

import { bridgeName, vethHostName } from '../../model/names.js';

export const ALIAS_PREFIX = 'zonectl/';

export function bridgeAlias(project: string, network: string): string {
  return `${ALIAS_PREFIX}${project}/${network}`;
}

export function vethAlias(project: string, zone: string, network: string): string {
  return `${ALIAS_PREFIX}${project}/${zone}/${network}`;
}

/** The owner of a link, from its name and alias; null when zonectl did not make it for `project`. */
export function ownerOf(project: string, ifname: string, alias: string): { kind: 'bridge'; network: string } | { kind: 'veth'; zone: string; network: string } | null {
  const prefix = `${ALIAS_PREFIX}${project}/`;
  if (!alias.startsWith(prefix)) return null;
  const parts = alias.slice(prefix.length).split('/');
  if (parts.length === 1 && ifname === bridgeName(project, parts[0]!)) return { kind: 'bridge', network: parts[0]! };
  if (parts.length === 2 && ifname === vethHostName(project, parts[0]!, parts[1]!)) return { kind: 'veth', zone: parts[0]!, network: parts[1]! };
  return null;
}

const IFNAMSIZ = 16;
const FALLBACK = /^eth[0-9]+$/;

/**
 * The zone end's name inside the zone: the network's name when it is a usable interface name
 * (at most 15 bytes, not `lo`, not of the `eth<N>` form kept for fallbacks, not taken);
 * else the lowest free `eth<N>`.
 */
export function zoneIfname(network: string, taken: ReadonlySet<string>): string {
  if (Buffer.byteLength(network) < IFNAMSIZ && /^[a-z0-9][a-z0-9-]*$/.test(network) && network !== 'lo' && !FALLBACK.test(network) && !taken.has(network)) {
    return network;
  }
  for (let n = 0; ; n++) if (!taken.has(`eth${n}`)) return `eth${n}`;
}
