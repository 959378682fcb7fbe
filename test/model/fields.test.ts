// The spec hash covers exactly the replace-fields: it changes when one of them changes, and
// not when an in-place (or ordering) field does.

import { describe, expect, it } from 'vitest';
import { canonicalJson, NETWORK_FIELDS, networkSpecHash, sameJson, ZONE_FIELDS, zoneSpecHash, type NetworkField, type ZoneField } from '../../src/model/fields.js';
import type { Network, Zone } from '../../src/model/types.js';

const zone: Zone = {
  name: 'web',
  hostname: 'web',
  root: { kind: 'sparse' },
  read_only: false,
  command: ['node', '/srv/web.js'],
  workdir: '/',
  env: { A: '1' },
  user: null,
  mounts: [],
  limits: { cpus: null, cpu_weight: 100, cpuset: null, memory: 128 * 1024 ** 2, memory_swap: 0, memory_reservation: null, pids: 64, io: { weight: 100, devices: {} } },
  networks: { front: { address: null, bandwidth: { ingress: null, egress: null }, mac: null } },
  depends_on: [],
  restart: { policy: 'no' },
  ports: [],
  stop_grace_period: 10_000,
  privileges: { capabilities: { add: [], drop: [] }, seccomp: 'default', userns: false },
};

// One change per field; typed by the field table, so a new field needs a case here.
const changes: Record<ZoneField, (z: Zone) => Zone> = {
  hostname: (z) => ({ ...z, hostname: 'other' }),
  root: (z) => ({ ...z, root: { kind: 'path', path: '/rootfs' } }),
  read_only: (z) => ({ ...z, read_only: true }),
  command: (z) => ({ ...z, command: ['node', '/srv/other.js'] }),
  workdir: (z) => ({ ...z, workdir: '/srv' }),
  env: (z) => ({ ...z, env: { A: '2' } }),
  user: (z) => ({ ...z, user: '1000' }),
  mounts: (z) => ({ ...z, mounts: [{ type: 'tmpfs', target: '/tmp', size: null }] }),
  limits: (z) => ({ ...z, limits: { ...z.limits, memory: 256 * 1024 ** 2, pids: null } }),
  networks: (z) => ({ ...z, networks: {} }),
  depends_on: (z) => ({ ...z, depends_on: ['db'] }),
  restart: (z) => ({ ...z, restart: { policy: 'always' } }),
  ports: (z) => ({ ...z, ports: [{ host_ip: null, host_port: 8080, zone_port: 80, protocol: 'tcp' }] }),
  stop_grace_period: (z) => ({ ...z, stop_grace_period: 30_000 }),
  privileges: (z) => ({ ...z, privileges: { ...z.privileges, userns: true } }),
};

describe('zoneSpecHash', () => {
  const fields = Object.keys(ZONE_FIELDS) as ZoneField[];

  it.each(fields.filter((f) => ZONE_FIELDS[f] === 'replace'))('changes when %s (a replace-field) changes', (field) => {
    expect(zoneSpecHash(changes[field](zone))).not.toBe(zoneSpecHash(zone));
  });

  it.each(fields.filter((f) => ZONE_FIELDS[f] !== 'replace'))('stays when %s (applied in place or ordering only) changes', (field) => {
    expect(zoneSpecHash(changes[field](zone))).toBe(zoneSpecHash(zone));
  });

  it('declares the SPEC table: limits, networks, restart, ports, hostname, stop_grace_period in place', () => {
    expect(fields.filter((f) => ZONE_FIELDS[f] === 'in-place').sort()).toEqual(['hostname', 'limits', 'networks', 'ports', 'restart', 'stop_grace_period']);
    expect(fields.filter((f) => ZONE_FIELDS[f] === 'ordering')).toEqual(['depends_on']);
  });

  it('is stable: the same zone, keys in any order, gives the same short hex hash', () => {
    const reordered = Object.fromEntries(Object.entries(zone).reverse()) as unknown as Zone;
    expect(zoneSpecHash(reordered)).toBe(zoneSpecHash(zone));
    expect(zoneSpecHash({ ...zone, env: { B: '2', A: '1' } })).toBe(zoneSpecHash({ ...zone, env: { A: '1', B: '2' } }));
    expect(zoneSpecHash(zone)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('does not mistake a name for content: the zone name is not hashed', () => {
    expect(zoneSpecHash({ ...zone, name: 'api' })).toBe(zoneSpecHash(zone));
  });
});

describe('networkSpecHash', () => {
  const net: Network = { name: 'front', subnet: '10.213.1.0/24', gateway: true, egress: 'none', internal: false };
  const netChanges: Record<NetworkField, (n: Network) => Network> = {
    subnet: (n) => ({ ...n, subnet: '10.213.9.0/24' }),
    gateway: (n) => ({ ...n, gateway: false }),
    egress: (n) => ({ ...n, egress: 'nat' }),
    internal: (n) => ({ ...n, internal: true }),
  };

  it.each(Object.keys(NETWORK_FIELDS) as NetworkField[])('%s', (field) => {
    const changed = networkSpecHash(netChanges[field](net)) !== networkSpecHash(net);
    expect(changed).toBe(NETWORK_FIELDS[field] === 'replace');
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"z":1}]},"b":1}');
    expect(canonicalJson(undefined)).toBe('null');
  });
});

describe('sameJson', () => {
  // A small deterministic generator (no Math.random: a failure must replay).
  let seed = 12345;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const PRIMITIVES: unknown[] = [null, undefined, 0, 1, -0, NaN, Infinity, '', '1', 'a', true, false, 1.5];
  const value = (depth: number): unknown => {
    const k = rand(depth > 2 ? 1 : 4);
    if (k === 0) return PRIMITIVES[rand(PRIMITIVES.length)];
    if (k === 1) return Array.from({ length: rand(3) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: rand(4) }, () => [['a', 'b', 'c'][rand(3)]!, value(depth + 1)]));
  };
  /** The same value, or one a little different: keys reordered, undefined keys added, one leaf changed. */
  const variant = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map((x) => (rand(6) === 0 ? value(3) : variant(x)));
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).reverse().map(([k, x]) => [k, rand(8) === 0 ? value(3) : variant(x)] as const);
      if (rand(3) === 0) return Object.fromEntries([...entries, ['z', undefined]]);
      return Object.fromEntries(entries);
    }
    return rand(10) === 0 ? value(3) : v;
  };

  it('agrees with comparing canonicalJson texts, on 20,000 pairs of values', () => {
    let equal = 0;
    for (let i = 0; i < 20_000; i++) {
      const a = value(0);
      const b = rand(2) === 0 ? variant(a) : value(0);
      const want = canonicalJson(a) === canonicalJson(b);
      expect(sameJson(a, b), `${canonicalJson(a)} vs ${canonicalJson(b)}`).toBe(want);
      expect(sameJson(b, a)).toBe(want);
      if (want) equal++;
    }
    // both answers are well represented
    expect(equal).toBeGreaterThan(2_000);
    expect(equal).toBeLessThan(18_000);
  });

  it('treats absent, undefined and null alike where JSON does, and key order as nothing', () => {
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ a: null }, {})).toBe(false);
    expect(sameJson([undefined], [null])).toBe(true);
    expect(sameJson({ x: { p: 1, q: [2] } }, { x: { q: [2], p: 1 } })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({}, [])).toBe(false);
    expect(sameJson({ constructor: 1 }, {})).toBe(false);
  });
});
