// The semantic rules (what the schema cannot say), each shown to hold and to fire, and the
// DesiredState they build.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { DesiredState } from '../../src/model/types.js';
import { problems } from '../helpers/problems.js';
import { testdir } from '../helpers/testdir.js';

const NETS = `networks:
  front: { subnet: 10.213.1.0/24, gateway: true }
  back: { subnet: 10.213.2.0/24 }
  inside: { subnet: 10.213.3.0/24, internal: true }
`;

function load(text: string): DesiredState {
  const dir = testdir({ 'zones.yaml': text });
  return loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }).desired;
}
/** The problems of a file, without the file:line:col prefix (the corpus checks positions). */
function messages(text: string): string[] {
  return problems(() => load(text)).map((l) => l.replace(/^zones\.yaml:\d+:\d+ /, ''));
}

// Each rule: a file it accepts and a near-identical one it refuses, with the message.
const rules: { rule: string; ok: string; bad: string; message: string }[] = [
  { rule: 'depends_on names a declared zone', ok: 'zones:\n  db: {}\n  web: { depends_on: [db] }\n', bad: 'zones:\n  web: { depends_on: [db] }\n', message: 'zones.web.depends_on[0]: zone "db" is not declared under zones' },
  { rule: 'a zone does not depend on itself', ok: 'zones:\n  web: { depends_on: [] }\n', bad: 'zones:\n  web: { depends_on: [web] }\n', message: 'zones.web.depends_on[0]: zone web cannot depend on itself' },
  { rule: 'depends_on lists a zone once', ok: 'zones:\n  a: {}\n  b: {}\n  web: { depends_on: [a, b] }\n', bad: 'zones:\n  a: {}\n  web: { depends_on: [a, a] }\n', message: 'zones.web.depends_on[1]: lists zone "a" twice' },
  { rule: 'dependencies have no cycle (named)', ok: 'zones:\n  a: { depends_on: [b] }\n  b: { depends_on: [c] }\n  c: {}\n', bad: 'zones:\n  a: { depends_on: [b] }\n  b: { depends_on: [c] }\n  c: { depends_on: [a] }\n', message: 'zones.a.depends_on[0]: dependency cycle: a → b → c → a' },
  { rule: 'a zone joins declared networks only', ok: `${NETS}zones:\n  web: { networks: [back] }\n`, bad: `${NETS}zones:\n  web: { networks: [middle] }\n`, message: 'zones.web.networks[0]: network "middle" is not declared under networks (declared: back, front, inside)' },
  { rule: 'an address lies inside the subnet', ok: `${NETS}zones:\n  web: { networks: { back: { address: 10.213.2.254 } } }\n`, bad: `${NETS}zones:\n  web: { networks: { back: { address: 10.213.1.254 } } }\n`, message: 'zones.web.networks.back.address: 10.213.1.254 is outside the subnet of back (10.213.2.0/24)' },
  { rule: 'an address is not the network address', ok: `${NETS}zones:\n  web: { networks: { back: { address: 10.213.2.1 } } }\n`, bad: `${NETS}zones:\n  web: { networks: { back: { address: 10.213.2.0 } } }\n`, message: 'zones.web.networks.back.address: 10.213.2.0 is the network address of 10.213.2.0/24' },
  { rule: 'an address is not the broadcast address', ok: `${NETS}zones:\n  web: { networks: { back: { address: 10.213.2.254 } } }\n`, bad: `${NETS}zones:\n  web: { networks: { back: { address: 10.213.2.255 } } }\n`, message: 'zones.web.networks.back.address: 10.213.2.255 is the broadcast address of 10.213.2.0/24' },
  { rule: 'an address is not the gateway (only where there is one)', ok: `${NETS}zones:\n  web: { networks: { back: { address: 10.213.2.1 } } }\n`, bad: `${NETS}zones:\n  web: { networks: { front: { address: 10.213.1.1 } } }\n`, message: "zones.web.networks.front.address: 10.213.1.1 is the gateway (the host's address on front)" },
  { rule: 'an address is used once per network', ok: `${NETS}zones:\n  a: { networks: { back: { address: 10.213.2.9 } } }\n  b: { networks: { front: { address: 10.213.1.9 } } }\n`, bad: `${NETS}zones:\n  a: { networks: { back: { address: 10.213.2.9 } } }\n  b: { networks: { back: { address: 10.213.2.9 } } }\n`, message: 'zones.b.networks.back.address: 10.213.2.9 is already the address of zone a on back' },
  { rule: 'subnets do not overlap', ok: 'networks:\n  a: { subnet: 10.0.0.0/24 }\n  b: { subnet: 10.0.1.0/24 }\n', bad: 'networks:\n  a: { subnet: 10.0.0.0/23 }\n  b: { subnet: 10.0.1.0/24 }\n', message: 'networks.b.subnet: 10.0.1.0/24 overlaps network a (10.0.0.0/23)' },
  { rule: 'a subnet has no host bits set', ok: 'networks:\n  a: { subnet: 10.0.0.0/30 }\n', bad: 'networks:\n  a: { subnet: 10.0.0.4/29 }\n', message: 'networks.a.subnet: "10.0.0.4/29" has host bits set (did you mean 10.0.0.0/29?)' },
  { rule: 'egress: nat needs a gateway', ok: 'networks:\n  a: { subnet: 10.0.0.0/24, gateway: true, egress: nat }\n', bad: 'networks:\n  a: { subnet: 10.0.0.0/24, egress: nat }\n', message: 'networks.a.egress: egress: nat needs gateway: true (traffic leaves through the host)' },
  { rule: 'an internal network has no gateway', ok: 'networks:\n  a: { subnet: 10.0.0.0/24, internal: true, gateway: false }\n', bad: 'networks:\n  a: { subnet: 10.0.0.0/24, internal: true, gateway: true }\n', message: 'networks.a.gateway: an internal network cannot have a gateway' },
  { rule: 'published ports need a gateway network', ok: `${NETS}zones:\n  web: { networks: [back, front], ports: ["8080:80"] }\n`, bad: `${NETS}zones:\n  web: { networks: [back], ports: ["8080:80"] }\n`, message: 'zones.web.ports: published ports need zone web on a network with gateway: true' },
  { rule: 'no published ports on an internal network', ok: `${NETS}zones:\n  web: { networks: [front, inside] }\n`, bad: `${NETS}zones:\n  web: { networks: [front, inside], ports: ["8080:80"] }\n`, message: 'zones.web.ports: zone web is on the internal network inside, which forbids published ports' },
  { rule: 'a host port is published once (all addresses clash with one)', ok: `${NETS}zones:\n  a: { networks: [front], ports: ["127.0.0.1:8080:80", "8080:80/udp"] }\n  b: { networks: [front], ports: ["127.0.0.2:8080:80"] }\n`, bad: `${NETS}zones:\n  a: { networks: [front], ports: ["127.0.0.1:8080:80"] }\n  b: { networks: [front], ports: ["8080:80"] }\n`, message: 'zones.b.ports[0]: host port 8080/tcp is already published by zone a (127.0.0.1:8080/tcp)' },
  { rule: 'the same address and port twice clash', ok: `${NETS}zones:\n  a: { networks: [front], ports: ["8080:80", "8081:80"] }\n`, bad: `${NETS}zones:\n  a: { networks: [front], ports: ["8080:80", "8080:81"] }\n`, message: 'zones.a.ports[1]: host port 8080/tcp is already published by zone a (8080/tcp)' },
  { rule: 'memory_swap needs memory', ok: 'zones:\n  a: { limits: { memory: 1G, memory_swap: 1G } }\n  b: { limits: { memory_swap: 0 } }\n', bad: 'zones:\n  a: { limits: { memory_swap: 1G } }\n', message: 'zones.a.limits.memory_swap: needs memory: swap is allowed on top of a memory cap' },
  { rule: 'memory_reservation does not exceed memory', ok: 'zones:\n  a: { limits: { memory: 1G, memory_reservation: 1G } }\n', bad: 'zones:\n  a: { limits: { memory: 1G, memory_reservation: 1025M } }\n', message: 'zones.a.limits.memory_reservation: "1025M" is more than memory ("1G"): a reservation cannot exceed the cap' },
  { rule: 'a bind mount has a source', ok: 'zones:\n  a: { mounts: [{ source: ./x, target: /x }, { type: tmpfs, target: /t }] }\n', bad: 'zones:\n  a: { mounts: [{ type: bind, target: /x }] }\n', message: 'zones.a.mounts[0]: a bind mount needs a source (or type: tmpfs)' },
  { rule: 'a tmpfs mount has no source', ok: 'zones:\n  a: { mounts: [{ type: tmpfs, target: /t, size: 64M }] }\n', bad: 'zones:\n  a: { mounts: [{ type: tmpfs, source: ./t, target: /t }] }\n', message: 'zones.a.mounts[0].source: a tmpfs mount has no source' },
  { rule: 'mount targets differ', ok: 'zones:\n  a: { mounts: [{ source: ./x, target: /x }, { source: ./y, target: /x/y }] }\n', bad: 'zones:\n  a: { mounts: [{ source: ./x, target: /x }, { type: tmpfs, target: /y/../x }] }\n', message: 'zones.a.mounts[1].target: "/y/../x" is already the target of mounts[0]' },
  { rule: 'a MAC address is unicast', ok: `${NETS}zones:\n  a: { networks: { back: { mac: "02:00:00:00:00:01" } } }\n`, bad: `${NETS}zones:\n  a: { networks: { back: { mac: "03:00:00:00:00:01" } } }\n`, message: 'zones.a.networks.back.mac: "03:00:00:00:00:01" is a multicast address: the first byte must be even (e.g. 02:…)' },
  { rule: 'global is reserved', ok: 'zones:\n  global-web: {}\n', bad: 'zones:\n  global: {}\n', message: 'zones.global: "global" is reserved for the host (the global zone): choose another name' },
  { rule: 'names are DNS labels', ok: 'zones:\n  web-1: {}\n  "0web": {}\n', bad: 'zones:\n  -web: {}\n', message: `zones.-web: "-web" is not a valid name: use lowercase letters, digits and '-', starting with a letter or digit, at most 63 characters` },
  { rule: 'capabilities are Linux capabilities', ok: 'zones:\n  a: { privileges: { capabilities: { add: [NET_ADMIN, CAP_SYS_TIME, ALL] } } }\n', bad: 'zones:\n  a: { privileges: { capabilities: { add: [NET_ADMINS] } } }\n', message: 'zones.a.privileges.capabilities.add[0]: "NET_ADMINS" is not a Linux capability' },
];

describe('semantic rules', () => {
  it.each(rules)('$rule', ({ ok, bad, message }) => {
    expect(() => load(ok)).not.toThrow();
    expect(messages(bad)).toEqual([message]);
  });
});

describe('the desired state', () => {
  it('normalises units, lists and names', () => {
    const d = load(`name: shop
global:
  limits: { cpus: 1.5, memory: 2G }
${NETS}zones:
  web:
    command: exec node /srv/web.js
    env: [B=2, A=1=one]
    user: 1000
    workdir: /srv/./app/
    limits:
      cpus: 0.25
      cpuset: "3,0-1"
      memory: 128M
      memory_reservation: 64M
      pids: max
      io: { weight: 200, devices: { /dev/vda: { read_bps: 10M, write_iops: 100 } } }
    networks:
      front: { address: 10.213.1.10, bandwidth: 20mbit, mac: "02:AA:00:00:00:01" }
      back: { bandwidth: { ingress: 1gbit, egress: 500kbit } }
    restart: on-failure:5
    ports: ["127.0.0.1:8080:80", "53:53/udp"]
    stop_grace_period: 1m30s
    privileges: { capabilities: { add: [NET_ADMIN], drop: [CAP_CHOWN, CHOWN] }, seccomp: unconfined, userns: true }
`);
    expect(d.project).toBe('shop');
    expect(d.global.limits).toMatchObject({ cpus: { quota_us: 150_000, period_us: 100_000 }, memory: 2 * 1024 ** 3 });
    expect(d.networks.front).toEqual({ name: 'front', subnet: '10.213.1.0/24', gateway: true, egress: 'none', internal: false });
    const web = d.zones.web!;
    expect(web.command).toEqual(['/bin/sh', '-c', 'exec node /srv/web.js']);
    expect(web.env).toEqual({ A: '1=one', B: '2' });
    expect(web.user).toBe('1000');
    expect(web.workdir).toBe('/srv/app/');
    expect(web.limits).toEqual({
      cpus: { quota_us: 25_000, period_us: 100_000 },
      cpu_weight: 100,
      cpuset: [0, 1, 3],
      memory: 128 * 1024 ** 2,
      memory_swap: 0,
      memory_reservation: 64 * 1024 ** 2,
      pids: null,
      io: { weight: 200, devices: { '/dev/vda': { read_bps: 10 * 1024 ** 2, write_bps: null, read_iops: null, write_iops: 100 } } },
    });
    expect(web.networks).toEqual({
      back: { address: null, bandwidth: { ingress: 1e9, egress: 500_000 }, mac: null },
      front: { address: '10.213.1.10', bandwidth: { ingress: 20e6, egress: 20e6 }, mac: '02:aa:00:00:00:01' },
    });
    expect(Object.keys(web.networks)).toEqual(['back', 'front']);
    expect(web.restart).toEqual({ policy: 'on-failure', max_retries: 5 });
    expect(web.ports).toEqual([
      { host_ip: '127.0.0.1', host_port: 8080, zone_port: 80, protocol: 'tcp' },
      { host_ip: null, host_port: 53, zone_port: 53, protocol: 'udp' },
    ]);
    expect(web.stop_grace_period).toBe(90_000);
    expect(web.privileges).toEqual({ capabilities: { add: ['CAP_NET_ADMIN'], drop: ['CAP_CHOWN'] }, seccomp: 'unconfined', userns: true });
  });

  it('fills in every default for an empty zone', () => {
    const web = load('zones:\n  web:\n').zones.web!;
    expect(web).toEqual({
      name: 'web',
      hostname: 'web',
      root: { kind: 'sparse' },
      read_only: false,
      command: [],
      workdir: '/',
      env: {},
      user: null,
      mounts: [],
      limits: { cpus: null, cpu_weight: 100, cpuset: null, memory: null, memory_swap: 0, memory_reservation: null, pids: null, io: { weight: 100, devices: {} } },
      networks: {},
      depends_on: [],
      restart: { policy: 'no' },
      ports: [],
      stop_grace_period: 10_000,
      privileges: { capabilities: { add: [], drop: [] }, seccomp: 'default', userns: false },
    });
  });

  it('keeps an environment variable named like an Object property', () => {
    expect(load('zones:\n  web:\n    env: { __proto__: x, constructor: y, toString: z }\n').zones.web!.env).toEqual(
      Object.fromEntries([['__proto__', 'x'], ['constructor', 'y'], ['toString', 'z']]),
    );
    expect(Object.keys(load('zones:\n  web:\n    env: ["__proto__=x"]\n').zones.web!.env)).toEqual(['__proto__']);
  });

  it('reports a cycle once, in name order, whatever the order of the file', () => {
    const cycle = ['zones.z.depends_on[0]: dependency cycle: z → y → z'];
    expect(messages('zones:\n  z: { depends_on: [y] }\n  y: { depends_on: [z] }\n  a: { depends_on: [z] }\n')).toEqual(cycle);
    expect(messages('zones:\n  a: { depends_on: [z] }\n  y: { depends_on: [z] }\n  z: { depends_on: [y] }\n')).toEqual(cycle);
  });
});
