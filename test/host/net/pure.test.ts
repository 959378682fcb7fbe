// The network driver's pure parts: names and owner tags, token buckets, the nftables table,
// /etc/hosts.
import { describe, expect, it } from 'vitest';
import { bridgeName, vethHostName } from '../../../src/model/names.js';
import type { Network, Zone } from '../../../src/model/types.js';
import { hostsFiles } from '../../../src/host/net/hosts.js';
import { bridgeAlias, ownerOf, vethAlias, zoneIfname } from '../../../src/host/net/naming.js';
import { renderRules } from '../../../src/host/net/nft.js';
import { canonicalBandwidth, tbfFor } from '../../../src/host/net/shaping.js';

const net = (name: string, subnet: string, extra: Partial<Network> = {}): Network => ({ name, subnet, gateway: false, egress: 'none', internal: false, ...extra });

describe('names and owner tags', () => {
  it('recognises only the project’s own links, by alias and hashed name together', () => {
    expect(ownerOf('shop', bridgeName('shop', 'front'), bridgeAlias('shop', 'front'))).toEqual({ kind: 'bridge', network: 'front' });
    expect(ownerOf('shop', vethHostName('shop', 'web', 'front'), vethAlias('shop', 'web', 'front'))).toEqual({ kind: 'veth', zone: 'web', network: 'front' });
    expect(ownerOf('shop', 'eth0', bridgeAlias('shop', 'front'))).toBeNull(); // alias copied onto a foreign link
    expect(ownerOf('shop2', bridgeName('shop', 'front'), bridgeAlias('shop', 'front'))).toBeNull();
    expect(ownerOf('shop', bridgeName('shop', 'front'), '')).toBeNull();
  });

  it('names the zone end after its network when it can, else the lowest free eth<N>', () => {
    expect(zoneIfname('front', new Set(['lo']))).toBe('front');
    expect(zoneIfname('a-very-long-network', new Set(['lo']))).toBe('eth0');
    expect(zoneIfname('fifteen-chars-x', new Set())).toBe('fifteen-chars-x');
    expect(zoneIfname('sixteen-chars-xx', new Set())).toBe('eth0');
    expect(zoneIfname('lo', new Set(['lo']))).toBe('eth0');
    expect(zoneIfname('eth1', new Set())).toBe('eth0');
    expect(zoneIfname('front', new Set(['front', 'eth0']))).toBe('eth1');
  });
});

describe('token buckets', () => {
  it('turns bits per second into bytes, a 20 ms burst (two frames at least) and a 100 ms queue', () => {
    expect(tbfFor(20_000_000)).toEqual({ rate: 2_500_000, burst: 50_000, limit: 300_000 });
    expect(tbfFor(1_000_000)).toEqual({ rate: 125_000, burst: 3028, limit: 3028 + 12_500 });
  });

  it('canonicalises a rate to what the kernel keeps (whole bytes per second)', () => {
    expect(canonicalBandwidth({ ingress: 1001, egress: null })).toEqual({ ingress: 1000, egress: null });
    expect(canonicalBandwidth({ ingress: 20_000_000, egress: 8 })).toEqual({ ingress: 20_000_000, egress: 8 });
  });
});

describe('the nftables table', () => {
  const networks = { front: net('front', '10.213.1.0/24', { gateway: true, egress: 'nat' }), back: net('back', '10.213.2.0/24'), vault: net('vault', '10.213.3.0/24', { internal: true }) };

  it('drops forwarding between segments with a gateway, masquerades nat networks and publishes ports', () => {
    const text = renderRules('shop', { networks, published: [{ zone: 'web', address: '10.213.1.10', ports: [{ host_ip: null, host_port: 8080, zone_port: 80, protocol: 'tcp' }, { host_ip: '127.0.0.1', host_port: 53, zone_port: 53, protocol: 'udp' }] }] })!;
    const front = JSON.stringify(bridgeName('shop', 'front'));
    const vault = JSON.stringify(bridgeName('shop', 'vault'));
    expect(text.split('\n')[0]).toBe('table inet zonectl-shop {');
    expect(text).toContain(`iifname ${front} oifname != ${front} oifname "znb*" drop`);
    expect(text).toContain(`oifname ${front} iifname != ${front} iifname "znb*" drop`);
    expect(text).toContain(`ip saddr 10.213.1.0/24 oifname != ${front} masquerade`);
    // segments without a gateway have no rule: no route into them, and their zones' filters confine them
    expect(text).not.toContain(vault);
    expect(text).not.toContain(JSON.stringify(bridgeName('shop', 'back')));
    expect(text).toContain(`ip saddr 127.0.0.0/8 oifname ${front} masquerade`);
    expect(text).toContain('fib daddr type local tcp dport 8080 dnat ip to 10.213.1.10:80');
    expect(text).toContain('ip daddr 127.0.0.1 udp dport 53 dnat ip to 10.213.1.10:53');
  });

  it('is not there when no network of the project has a gateway', () => {
    expect(renderRules('shop', { networks: {}, published: [] })).toBeNull();
    expect(renderRules('shop', { networks: { back: networks.back, vault: networks.vault }, published: [] })).toBeNull();
    expect(renderRules('shop', { networks: { third: net('third', '10.213.4.0/24', { gateway: true }) }, published: [] })).toContain('"znb*" drop');
  });
});

describe('/etc/hosts', () => {
  const zone = (name: string, networks: Record<string, string>, hostname = name): Zone =>
    ({ name, hostname, networks: Object.fromEntries(Object.entries(networks).map(([n, address]) => [n, { address, mac: null, bandwidth: { ingress: null, egress: null } }])) }) as unknown as Zone;

  it('names the zone itself and every zone it shares a segment with, and no other', () => {
    const files = hostsFiles({
      web: zone('web', { front: '10.213.1.10' }, 'www'),
      api: zone('api', { back: '10.213.2.11', front: '10.213.1.11' }),
      db: zone('db', { back: '10.213.2.12' }),
      lonely: zone('lonely', {}),
    });
    expect(files.web).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.213.1.10\twww web\n10.213.1.11\tapi\n');
    expect(files.api).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.213.2.11\tapi\n10.213.2.12\tdb\n10.213.1.10\tweb\n');
    expect(files.db).toContain('10.213.2.11\tapi\n');
    expect(files.db).not.toContain('web');
    expect(files.lonely).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tlonely\n');
  });
});
