// Hot or cold, declared once per field (SPEC §1 "change applied"): the planner and the spec
// hash both read this table, and nothing else decides it.

import { hash64Hex } from './hash.js';
import type { Network, Zone } from './types.js';

/** in-place: applied to the running zone; replace: the zone is recreated; ordering: affects order only. */
export type ChangeRule = 'in-place' | 'replace' | 'ordering';

export const ZONE_FIELDS = {
  hostname: 'in-place',
  root: 'replace',
  read_only: 'replace',
  command: 'replace',
  workdir: 'replace',
  env: 'replace',
  user: 'replace',
  mounts: 'replace',
  limits: 'in-place',
  networks: 'in-place',
  depends_on: 'ordering',
  restart: 'in-place',
  ports: 'in-place',
  stop_grace_period: 'in-place',
  privileges: 'replace',
} as const satisfies Record<Exclude<keyof Zone, 'name'>, ChangeRule>;

export const NETWORK_FIELDS = {
  subnet: 'replace',
  gateway: 'in-place',
  egress: 'in-place',
  internal: 'in-place',
} as const satisfies Record<Exclude<keyof Network, 'name'>, ChangeRule>;

export type ZoneField = keyof typeof ZONE_FIELDS;
export type NetworkField = keyof typeof NETWORK_FIELDS;

/** JSON with sorted keys: the same value always gives the same text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * canonicalJson(a) === canonicalJson(b), without building either text: the planner compares
 * every field of every zone, and a converged 1,000-zone plan spent a fifth of its CPU on those
 * texts. Keys whose value is undefined are absent, key order does not matter, and a primitive
 * is compared as its JSON text (so NaN, Infinity and undefined equal null, as they print).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const arrays = Array.isArray(a);
  if (arrays !== Array.isArray(b)) return false;
  if (arrays) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameJson(x[i], y[i])) return false;
    return true;
  }
  const objects = a !== null && typeof a === 'object';
  if (objects !== (b !== null && typeof b === 'object')) return false;
  if (!objects) return (JSON.stringify(a) ?? 'null') === (JSON.stringify(b) ?? 'null');
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k of Object.keys(x)) {
    if (x[k] === undefined) continue;
    n++;
    if (y[k] === undefined || !Object.hasOwn(y, k) || !sameJson(x[k], y[k])) return false;
  }
  for (const k of Object.keys(y)) if (y[k] !== undefined) n--;
  return n === 0;
}

function hashOf<T extends object>(item: T, table: Record<string, ChangeRule>): string {
  const cold: Record<string, unknown> = {};
  for (const [field, rule] of Object.entries(table)) if (rule === 'replace') cold[field] = (item as Record<string, unknown>)[field];
  return hash64Hex(canonicalJson(cold));
}

/** The hash of a zone's replace-fields, recorded with the zone to decide "recreate?". */
export function zoneSpecHash(zone: Zone): string {
  return hashOf(zone, ZONE_FIELDS);
}

export function networkSpecHash(network: Network): string {
  return hashOf(network, NETWORK_FIELDS);
}
