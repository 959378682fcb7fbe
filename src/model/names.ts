// Names of kernel objects, derived so that zonectl finds its own and nothing else
// (Linux caps interface names at 15 bytes): a short hash of project and name.

import { hash64Hex } from './hash.js';

export const IFNAME_PREFIX = 'zn';

function shortHash(...parts: string[]): string {
  return hash64Hex(parts.join('\0'));
}

/** The bridge of a network: `znb` + 10 hex digits. */
export function bridgeName(project: string, network: string): string {
  return `${IFNAME_PREFIX}b${shortHash('bridge', project, network).slice(0, 10)}`;
}

/** The host end of a zone's veth on a network: `znv` + 10 hex digits. */
export function vethHostName(project: string, zone: string, network: string): string {
  return `${IFNAME_PREFIX}v${shortHash('veth', project, zone, network).slice(0, 10)}`;
}

/** A stable, locally administered unicast MAC for a zone on a network. */
export function derivedMac(project: string, zone: string, network: string): string {
  const h = shortHash('mac', project, zone, network);
  const bytes = [0x02, ...[0, 2, 4, 6, 8].map((i) => parseInt(h.slice(i, i + 2), 16))];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
