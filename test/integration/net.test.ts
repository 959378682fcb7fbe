// Network segmentation against the real kernel (root): bridges, veth pairs, addresses, routes,
// tbf, the anti-spoofing classifier and the per-project nftables table, checked with real TCP
// connections between throwaway network namespaces. Traffic only flows between namespaces this
// file created, over interfaces it created, in subnets of 10.213.0.0/16 checked to be unrouted.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { overlaps, parseCidr, type Cidr } from '../../src/model/ipv4.js';
import { bridgeName, derivedMac, vethHostName } from '../../src/model/names.js';
import type { Bandwidth, Network, Port } from '../../src/model/types.js';
import { IFF_UP, NFPROTO_INET, netExec, netnsMake, netSnapshot, nftRun, nftTableHandle } from '../../src/native/net.js';
import { createNetDriver, type ResolvedAttachment } from '../../src/host/net/index.js';
import { NftTables } from '../../src/host/net/nft.js';
import { describeRoot } from '../helpers/root.js';
import { connect, killProbes, listen } from '../host/net/probes.js';
import { killAllThrowaway, throwawayNetns, type ThrowawayNetns } from '../host/net/throwaway-netns.js';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
const cidr = (s: string): Cidr => parseCidr(s) as Cidr;

describeRoot('network segmentation (root, real kernel)', () => {
  const project = `zt-net-${randomBytes(3).toString('hex')}`;
  const driver = createNetDriver();
  const nft = new NftTables();
  const octet = 200 + (randomBytes(1)[0]! % 40);
  const sub = (i: number): string => `10.213.${octet + i}`;
  const networks: Record<string, Network> = {
    front: { name: 'front', subnet: `${sub(0)}.0/24`, gateway: true, egress: 'nat', internal: false },
    back: { name: 'back', subnet: `${sub(1)}.0/24`, gateway: false, egress: 'none', internal: false },
    third: { name: 'third', subnet: `${sub(2)}.0/24`, gateway: true, egress: 'none', internal: false },
  };
  const OUTSIDE = `${sub(3)}.0/24`;
  const unshaped: Bandwidth = { ingress: null, egress: null };
  // zone → network → address (IPAM's job; fixed here).
  const layout: Record<string, Record<string, string>> = {
    web: { front: `${sub(0)}.10` },
    api: { front: `${sub(0)}.11`, back: `${sub(1)}.11` },
    db: { back: `${sub(1)}.12` },
    other: { third: `${sub(2)}.13` },
  };
  const ns: Record<string, ThrowawayNetns> = {};
  const paths = (): Record<string, string> => Object.fromEntries(Object.entries(ns).map(([z, n]) => [z, n.path]));
  const attachment = (zone: string, net: string, bandwidth: Bandwidth = unshaped): ResolvedAttachment => ({ address: layout[zone]![net]!, mac: derivedMac(project, zone, net), bandwidth });
  const want = (zone: string, nets = Object.keys(layout[zone]!), bw: Record<string, Bandwidth> = {}) =>
    Object.fromEntries(nets.map((n) => [n, { network: networks[n]!, attachment: attachment(zone, n, bw[n]) }]));
  const rules = (published: { zone: string; address: string; ports: Port[] }[] = []) => ({ networks, published });
  const inZone = (zone: string, cmd: string[]): string => execFileSync('nsenter', [`--net=${ns[zone]!.path}`, ...cmd], { encoding: 'utf8' });
  const forwardBefore = readFileSync(IP_FORWARD, 'utf8').trim();
  let plumbMs = 0;

  beforeAll(async () => {
    const routes = (await driver.hostRoutes()).map(cidr).filter((r) => r.prefix > 0);
    for (const s of [...Object.values(networks).map((n) => n.subnet), OUTSIDE]) {
      const clash = routes.find((r) => overlaps(r, cidr(s)));
      if (clash) throw new Error(`test subnet ${s} is routed on this host; refusing to run`);
    }
    for (const zone of Object.keys(layout)) ns[zone] = await throwawayNetns();
    const t0 = performance.now();
    for (const n of Object.values(networks)) await driver.ensureNetwork(project, n);
    for (const zone of Object.keys(layout)) await driver.convergeZone(project, zone, ns[zone]!.path, want(zone));
    await driver.applyRules(project, rules());
    plumbMs = performance.now() - t0;
  });

  afterEach(() => {
    killProbes();
    writeFileSync(IP_FORWARD, forwardBefore);
  });

  afterAll(async () => {
    killProbes();
    writeFileSync(IP_FORWARD, forwardBefore);
    await driver.removeProject(project);
    killAllThrowaway();
  });

  it('plumbs segments as the kernel reports them: bridges, one address per zone end, gateway only where declared', async () => {
    console.log(`plumbed 3 networks and 4 zones (5 veth pairs) in ${plumbMs.toFixed(1)} ms`);
    const seen = await driver.observe(project, paths());
    expect(seen.networks.front).toMatchObject({ bridge: bridgeName(project, 'front'), up: true, gateway: `${sub(0)}.1/24` });
    expect(seen.networks.back).toMatchObject({ up: true, gateway: null });
    expect(seen.orphans).toEqual([]);
    for (const [zone, nets] of Object.entries(layout)) {
      for (const [net, address] of Object.entries(nets)) {
        expect(seen.zones[zone]?.[net], `${zone} on ${net}`).toEqual({ address, mac: derivedMac(project, zone, net), bandwidth: unshaped });
      }
    }
    // Inside api: ends named after their network, loopback up, default via the first gateway network, no forwarding.
    const inside = await netSnapshot(ns.api!.path, { routes: true });
    expect(inside.links.map((l) => l.name).sort()).toEqual(['back', 'front', 'lo']);
    expect(inside.links.find((l) => l.name === 'lo')!.flags & 1).toBe(1);
    const front = inside.links.find((l) => l.name === 'front')!;
    expect(inside.routes.find((r) => r.prefix === 0 && r.table === 254)).toMatchObject({ gateway: `${sub(0)}.1`, oif: front.index });
    expect(await netExec(ns.api!.path, [{ op: 'sysctl', path: '/proc/sys/net/ipv4/ip_forward' }])).toEqual(['0']);
    // db is on a segment without gateway: no default route at all.
    const dbRoutes = await netSnapshot(ns.db!.path, { routes: true });
    expect(dbRoutes.routes.filter((r) => r.prefix === 0)).toEqual([]);
    // The host has no address of any family on the gateway-less bridge.
    const host = await netSnapshot(null);
    const backBridge = host.links.find((l) => l.name === bridgeName(project, 'back'))!;
    expect(host.addrs.filter((a) => a.index === backBridge.index)).toEqual([]);
    expect(readFileSync(`/proc/sys/net/ipv6/conf/${backBridge.name}/disable_ipv6`, 'utf8').trim()).toBe('1');
  });

  it('is idempotent: converging again changes nothing the kernel reports', async () => {
    const before = await driver.observe(project, paths());
    for (const zone of Object.keys(layout)) await driver.convergeZone(project, zone, ns[zone]!.path, want(zone));
    for (const n of Object.values(networks)) await driver.ensureNetwork(project, n);
    expect(await driver.observe(project, paths())).toEqual(before);
  });

  it('plugs a zone into a namespace netnsMake just made without reading it (fresh), as reading it would', async () => {
    const fd = await netnsMake();
    const pin = `/proc/self/fd/${fd}`;
    try {
      const at = { front: `${sub(0)}.20`, back: `${sub(1)}.20` };
      const wanted = Object.fromEntries(Object.entries(at).map(([n, address]) => [n, { network: networks[n]!, attachment: { address, mac: derivedMac(project, 'fresh', n), bandwidth: unshaped } }]));
      await driver.convergeZone(project, 'fresh', pin, wanted, { fresh: true });
      const inside = await netSnapshot(pin, { routes: true });
      expect(inside.links.map((l) => l.name).sort()).toEqual(['back', 'front', 'lo']);
      expect(inside.links.find((l) => l.name === 'lo')!.flags & IFF_UP).toBe(IFF_UP);
      const front = inside.links.find((l) => l.name === 'front')!;
      expect(inside.routes.find((r) => r.prefix === 0 && r.table === 254)).toMatchObject({ gateway: `${sub(0)}.1`, oif: front.index });
      const seen = await driver.observe(project, { ...paths(), fresh: pin });
      for (const [n, address] of Object.entries(at)) expect(seen.zones.fresh?.[n], n).toEqual({ address, mac: derivedMac(project, 'fresh', n), bandwidth: unshaped });
      // converged again, reading the namespace this time: nothing to change
      await driver.convergeZone(project, 'fresh', pin, wanted);
      expect(await driver.observe(project, { ...paths(), fresh: pin })).toEqual(seen);
    } finally {
      for (const n of ['front', 'back']) await driver.detach(project, 'fresh', pin, n);
      closeSync(fd);
    }
  });

  it('repairs drift that observe saw, and drift after a zone was converged once (the next call reads the host afresh)', async () => {
    const hv = vethHostName(project, 'db', 'back');
    const link = async () => (await netSnapshot(null)).links.find((l) => l.name === hv)!;
    const bridge = (await netSnapshot(null)).links.find((l) => l.name === bridgeName(project, 'back'))!.index;
    // Off its bridge before the observation: an orphan, plugged in again from observe's snapshot.
    await netExec(null, [{ op: 'link_set_master', name: hv, master: '' }]);
    expect((await driver.observe(project, paths())).orphans.map((o) => o.ifname)).toContain(hv);
    await driver.convergeZone(project, 'db', ns.db!.path, want('db'));
    expect((await link()).master).toBe(bridge);
    // Down after the zone was converged from that snapshot (which says up): seen afresh, brought up.
    await netExec(null, [{ op: 'link_set_down', name: hv }]);
    await driver.convergeZone(project, 'db', ns.db!.path, want('db'));
    expect((await link()).flags & IFF_UP).toBe(IFF_UP);
    expect((await driver.observe(project, paths())).orphans).toEqual([]);
    // A default route added by hand in a zone none of whose networks has a gateway: removed.
    inZone('db', ['ip', 'route', 'add', 'default', 'dev', 'back']);
    await driver.convergeZone(project, 'db', ns.db!.path, want('db'));
    expect((await netSnapshot(ns.db!.path, { routes: true })).routes.filter((r) => r.prefix === 0)).toEqual([]);
  });

  it('connects zones on one segment, both ways, and never zones on different segments', async () => {
    const port = 7001;
    const listeners = await Promise.all(Object.keys(layout).map((z) => listen(ns[z]!.path, port)));
    const probe = (from: string, to: string, net: string) => connect(ns[from]!.path, layout[to]![net]!, port, { timeoutMs: 1200 });
    const results = await Promise.all([
      probe('web', 'api', 'front'), probe('api', 'web', 'front'),
      probe('db', 'api', 'back'), probe('api', 'db', 'back'),
      probe('web', 'db', 'back'), probe('db', 'web', 'front'),
      probe('other', 'web', 'front'), probe('web', 'other', 'third'),
      probe('other', 'api', 'back'), probe('db', 'other', 'third'),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, false, false, false, false, false, false]);
    for (const l of listeners) l.close();
  });

  it('answers ping (ICMP echo) on one segment, both ways, and never across segments', () => {
    // busybox ping as root in the test's throwaway namespaces; exit 0 = a reply came back
    const ping = (from: string, to: string, net: string): boolean =>
      spawnSync('nsenter', [`--net=${ns[from]!.path}`, 'busybox', 'ping', '-c', '1', '-W', '1', layout[to]![net]!], { stdio: 'ignore' }).status === 0;
    expect([
      ping('web', 'api', 'front'), ping('api', 'web', 'front'),
      ping('db', 'api', 'back'), ping('api', 'db', 'back'),
      ping('web', 'db', 'back'), ping('db', 'web', 'front'),
      ping('other', 'web', 'front'), ping('web', 'other', 'third'),
    ]).toEqual([true, true, true, true, false, false, false, false]);
  });

  it('a zone on two segments does not forward between them', async () => {
    // web routes the back segment through api; api must not pass it on.
    inZone('web', ['ip', 'route', 'add', networks.back!.subnet, 'via', layout.api!.front!]);
    const l = await listen(ns.db!.path, 7002);
    try {
      expect((await connect(ns.web!.path, layout.db!.back!, 7002, { timeoutMs: 1200 })).ok).toBe(false);
      expect(l.accepted).toEqual([]);
    } finally {
      inZone('web', ['ip', 'route', 'del', networks.back!.subnet]);
      l.close();
    }
  });

  it('without a gateway the host is unreachable, even to a zone that routes to it by hand', async () => {
    // A reply the host might send to the back subnet must not follow the default route.
    execFileSync('ip', ['route', 'add', 'blackhole', networks.back!.subnet]);
    const l = await listen(null, 7003, `${sub(0)}.1`); // the host's address on the front bridge
    try {
      inZone('db', ['ip', 'route', 'add', 'default', 'dev', 'back']);
      expect((await connect(ns.db!.path, `${sub(0)}.1`, 7003, { timeoutMs: 1200 })).ok).toBe(false);
      expect(l.accepted).toEqual([]);
      // Control: from a gateway segment the same listener answers.
      expect((await connect(ns.web!.path, `${sub(0)}.1`, 7003)).ok).toBe(true);
    } finally {
      inZone('db', ['ip', 'route', 'del', 'default']);
      execFileSync('ip', ['route', 'del', 'blackhole', networks.back!.subnet]);
      l.close();
    }
  });

  it('drops frames with a spoofed source IP or MAC (and passes the same traffic unspoofed)', async () => {
    const l = await listen(ns.api!.path, 7004);
    const spoofIp = `${sub(0)}.99`;
    inZone('web', ['ip', 'addr', 'add', `${spoofIp}/24`, 'dev', 'front']);
    try {
      expect((await connect(ns.web!.path, layout.api!.front!, 7004, { localAddress: spoofIp, timeoutMs: 1200 })).ok).toBe(false);
      expect((await connect(ns.web!.path, layout.api!.front!, 7004, { localAddress: layout.web!.front! })).ok).toBe(true);
    } finally {
      inZone('web', ['ip', 'addr', 'del', `${spoofIp}/24`, 'dev', 'front']);
    }
    inZone('web', ['ip', 'link', 'set', 'front', 'address', '02:de:ad:be:ef:01']);
    try {
      expect((await connect(ns.web!.path, layout.api!.front!, 7004, { timeoutMs: 1200 })).ok).toBe(false);
    } finally {
      inZone('web', ['ip', 'link', 'set', 'front', 'address', derivedMac(project, 'web', 'front')]);
      inZone('web', ['ip', 'neigh', 'flush', 'dev', 'front']);
      inZone('api', ['ip', 'neigh', 'flush', 'dev', 'front']);
    }
    expect(l.accepted.map((a) => a.from)).toEqual([layout.web!.front!]);
    l.close();
  });

  it('drops segment-to-segment forwarding even with gateways and IP forwarding on (and only because of the rule)', async () => {
    const l = await listen(ns.web!.path, 7005);
    writeFileSync(IP_FORWARD, '1');
    try {
      expect((await connect(ns.other!.path, layout.web!.front!, 7005, { timeoutMs: 1200 })).ok).toBe(false);
      // Control: without the project's table the host routes between the two segments.
      await nft.remove(project);
      expect((await connect(ns.other!.path, layout.web!.front!, 7005, { timeoutMs: 2000 })).ok).toBe(true);
    } finally {
      writeFileSync(IP_FORWARD, forwardBefore);
      await driver.applyRules(project, rules());
      l.close();
    }
  });

  it('routes nothing out of a segment without a gateway, with IP forwarding on and no nftables table (only because of its zones\' filters)', async () => {
    const l = await listen(ns.web!.path, 7008);
    const back = bridgeName(project, 'back');
    const web = layout.web!.front!;
    // db sends to web through the host: an on-link route and the back bridge's MAC for web's
    // address; the host gets a route back to db (so that only db's filter can stop the
    // connection, and no reply follows the default route); the project's table, which would
    // also drop it, is gone
    const brMac = readFileSync(`/sys/class/net/${back}/address`, 'utf8').trim();
    writeFileSync(IP_FORWARD, '1');
    execFileSync('ip', ['route', 'add', networks.back!.subnet, 'dev', back]);
    inZone('db', ['ip', 'route', 'add', web, 'dev', 'back']);
    inZone('db', ['ip', 'neigh', 'replace', web, 'lladdr', brMac, 'dev', 'back', 'nud', 'permanent']);
    try {
      await nft.remove(project);
      expect((await connect(ns.db!.path, web, 7008, { timeoutMs: 1200 })).ok).toBe(false);
      // Control: without db's filter the host routes it to web.
      execFileSync('tc', ['filter', 'del', 'dev', vethHostName(project, 'db', 'back'), 'ingress']);
      expect((await connect(ns.db!.path, web, 7008, { timeoutMs: 2000 })).ok).toBe(true);
    } finally {
      writeFileSync(IP_FORWARD, forwardBefore);
      inZone('db', ['ip', 'neigh', 'del', web, 'dev', 'back']);
      inZone('db', ['ip', 'route', 'del', web, 'dev', 'back']);
      execFileSync('ip', ['route', 'del', networks.back!.subnet, 'dev', back]);
      await driver.convergeZone(project, 'db', ns.db!.path, want('db')); // the filter again
      await driver.applyRules(project, rules());
      l.close();
    }
    expect(execFileSync('tc', ['filter', 'show', 'dev', vethHostName(project, 'db', 'back'), 'ingress'], { encoding: 'utf8' })).toContain('bpf');
  });

  it('shapes bandwidth on both ends, changed in place, within 20% of the cap', async () => {
    const l = await listen(ns.api!.path, 7006);
    // About three seconds of transfer at the cap; goodput is compared with the cap.
    const rate = async (cap = 4e6): Promise<number> => {
      const before = l.accepted.length;
      const r = await connect(ns.web!.path, layout.api!.front!, 7006, { bytes: (cap / 8) * 3, timeoutMs: 20_000 });
      expect(r.ok).toBe(true);
      const a = l.accepted[before]!;
      return (a.bytes * 8) / (a.ms / 1000);
    };
    const free = await rate();
    // Toward api (its ingress, shaped on the host end), then out of web (its egress, shaped inside web).
    await driver.setBandwidth(project, 'api', ns.api!.path, 'front', { ingress: 4_000_000, egress: null });
    const ingress = await rate();
    await driver.setBandwidth(project, 'api', ns.api!.path, 'front', unshaped);
    await driver.setBandwidth(project, 'web', ns.web!.path, 'front', { ingress: null, egress: 4_000_000 });
    const egress = await rate();
    await driver.setBandwidth(project, 'web', ns.web!.path, 'front', { ingress: null, egress: 8_000_000 });
    const egress8 = await rate(8e6);
    const seen = await driver.observe(project, paths());
    expect(seen.zones.web?.front?.bandwidth).toEqual({ ingress: null, egress: 8_000_000 });
    await driver.setBandwidth(project, 'web', ns.web!.path, 'front', unshaped);
    console.log(`bandwidth: unshaped ${(free / 1e6).toFixed(0)} Mbit/s; api ingress 4 Mbit → ${(ingress / 1e6).toFixed(2)}; web egress 4 Mbit → ${(egress / 1e6).toFixed(2)}; 8 Mbit → ${(egress8 / 1e6).toFixed(2)}`);
    expect(ingress / 4e6).toBeGreaterThan(0.8);
    expect(ingress / 4e6).toBeLessThan(1.2);
    expect(egress / 4e6).toBeGreaterThan(0.8);
    expect(egress / 4e6).toBeLessThan(1.2);
    expect(egress8 / 8e6).toBeGreaterThan(0.8);
    expect(egress8 / 8e6).toBeLessThan(1.2);
    expect(free / ingress).toBeGreaterThan(5);
    l.close();
  }, 60_000);

  it('publishes a port on the host address, DNAT to the zone', async () => {
    const l = await listen(ns.web!.path, 8080);
    try {
      await driver.applyRules(project, rules([{ zone: 'web', address: layout.web!.front!, ports: [
        { host_ip: null, host_port: 18080, zone_port: 8080, protocol: 'tcp' },
        { host_ip: '127.0.0.1', host_port: 18081, zone_port: 8080, protocol: 'tcp' },
      ] }]));
      expect((await connect(null, `${sub(0)}.1`, 18080)).ok).toBe(true);
      expect((await connect(null, '127.0.0.1', 18081)).ok).toBe(true);
      expect(l.accepted.map((a) => a.from)).toEqual([`${sub(0)}.1`, `${sub(0)}.1`]);
    } finally {
      await driver.applyRules(project, rules());
      l.close();
    }
    expect((await connect(null, `${sub(0)}.1`, 18080, { timeoutMs: 800 })).ok).toBe(false);
  });

  it('masquerades egress from a nat network to an outside namespace', async () => {
    const outside = await throwawayNetns();
    const link = `znt${randomBytes(4).toString('hex')}`;
    await netExec(null, [
      { op: 'link_add_veth', name: link, peer: 'uplink', peerNetns: outside.path },
      { op: 'addr_add', name: link, address: `${sub(3)}.1`, prefix: 24 },
      { op: 'link_set_up', name: link },
    ]);
    try {
      await netExec(outside.path, [
        { op: 'addr_add', name: 'uplink', address: `${sub(3)}.2`, prefix: 24 },
        { op: 'link_set_up', name: 'uplink' },
        { op: 'link_set_up', name: 'lo' },
      ]);
      const l = await listen(outside.path, 9000);
      writeFileSync(IP_FORWARD, '1');
      expect((await connect(ns.web!.path, `${sub(3)}.2`, 9000, { timeoutMs: 2000 })).ok).toBe(true);
      expect(l.accepted.map((a) => a.from)).toEqual([`${sub(3)}.1`]); // the host's address, not web's
      // A network without egress: nat is not masqueraded (its zones stay unknown outside).
      writeFileSync(IP_FORWARD, forwardBefore);
      l.close();
    } finally {
      writeFileSync(IP_FORWARD, forwardBefore);
      await netExec(null, [{ op: 'link_del', name: link, tolerate: ['ENODEV'] }]);
      outside.kill();
    }
  });

  it('hot-plugs a network into a running zone and out again, the zone untouched', async () => {
    const pid = ns.web!.pid;
    await driver.convergeZone(project, 'web', ns.web!.path, {
      ...want('web'),
      back: { network: networks.back!, attachment: { address: `${sub(1)}.10`, mac: derivedMac(project, 'web', 'back'), bandwidth: unshaped } },
    });
    const l = await listen(ns.db!.path, 7007);
    expect((await connect(ns.web!.path, layout.db!.back!, 7007)).ok).toBe(true);
    // Change the address in place.
    await driver.attach(project, 'web', ns.web!.path, networks.back!, { address: `${sub(1)}.20`, mac: derivedMac(project, 'web', 'back'), bandwidth: unshaped }, { defaultRoute: false });
    expect((await driver.observe(project, paths())).zones.web?.back?.address).toBe(`${sub(1)}.20`);
    expect((await connect(ns.web!.path, layout.db!.back!, 7007)).ok).toBe(true);
    await driver.convergeZone(project, 'web', ns.web!.path, want('web'));
    expect((await driver.observe(project, paths())).zones.web?.back).toBeUndefined();
    expect((await connect(ns.web!.path, layout.db!.back!, 7007, { timeoutMs: 800 })).ok).toBe(false);
    expect(ns.web!.pid).toBe(pid);
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('sleep');
    l.close();
  });

  it('replaces the nftables table only when its text changed or the kernel lost it', async () => {
    const table = `zonectl-${project}`;
    await driver.applyRules(project, rules());
    const before = await nft.handle(project);
    expect(before).not.toBeNull();
    // Unchanged: no nft run, so the kernel keeps the very same table (a replace makes a new handle).
    await driver.applyRules(project, rules());
    expect(await nft.handle(project)).toBe(before);
    // Deleted by hand: the recorded text is the same, but the table is made again.
    execFileSync('nft', ['delete', 'table', 'inet', table]);
    expect(await nft.handle(project)).toBeNull();
    await driver.applyRules(project, rules());
    const remade = await nft.handle(project);
    expect(remade).not.toBeNull();
    expect(execFileSync('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' })).toContain(`masquerade`);
    // A changed text replaces it.
    await driver.applyRules(project, rules([{ zone: 'web', address: layout.web!.front!, ports: [{ host_ip: '127.0.0.1', host_port: 18080, zone_port: 80, protocol: 'tcp' }] }]));
    expect(await nft.handle(project)).not.toBe(remade);
    expect(execFileSync('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' })).toContain('dport 18080');
    await driver.applyRules(project, rules());
  });

  it('runs nft commands in-process through libnftables: output back, and a refusal with nft\'s own message that changes nothing', async () => {
    const table = `zonectl-${project}-bad`;
    const refused = await nftRun(`table inet ${table} {\n  chain c {\n    no such statement\n  }\n}\n`);
    expect(refused.ok).toBe(false);
    expect(refused.errors).toMatch(/Error: syntax error/);
    expect(await nftTableHandle(NFPROTO_INET, table)).toBeNull(); // the transaction was never committed
    const listed = await nftRun('list tables');
    expect(listed.ok).toBe(true);
    expect(listed.output).toBe(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }));
  });

  it('leaves nothing behind after removeProject', async () => {
    await driver.removeProject(project);
    const host = await netSnapshot(null);
    const ours = new Set([
      ...Object.keys(networks).map((n) => bridgeName(project, n)),
      ...Object.entries(layout).flatMap(([z, nets]) => [...Object.keys(nets), 'back'].map((n) => vethHostName(project, z, n))),
    ]);
    expect(host.links.filter((l) => ours.has(l.name) || l.alias.startsWith(`zonectl/${project}/`))).toEqual([]);
    expect(host.links.filter((l) => l.name.startsWith('znt'))).toEqual([]);
    expect(await nft.tables()).not.toContain(`zonectl-${project}`);
    expect(existsSync(`/run/zonectl/${project}`)).toBe(false); // nft.rules, the text last applied
    expect((await driver.observe(project, paths()))).toEqual({ networks: {}, zones: {}, orphans: [] });
  });
});
