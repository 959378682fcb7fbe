import { describe, expect, it } from 'vitest';
import { broadcastOf, contains, formatCidr, formatIpv4, gatewayOf, maskOf, overlaps, parseCidr, parseIpv4, type Cidr } from '../../src/model/ipv4.js';

const cidr = (text: string): Cidr => {
  const c = parseCidr(text);
  if ('error' in c) throw new Error(`${text}: ${c.error}`);
  return c;
};

describe('ipv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['10.213.1.10', 0x0ad5010a],
    ['255.255.255.255', 0xffffffff],
    ['192.168.0.1', 0xc0a80001],
  ])('parses and formats %s', (text, n) => {
    expect(parseIpv4(text)).toBe(n);
    expect(formatIpv4(n)).toBe(text);
  });

  it.each(['256.0.0.1', '10.0.0', '10.0.0.0.1', '010.0.0.1', '10.0.0.-1', '10.0.0.1 ', '', 'a.b.c.d', '1e1.0.0.1', '10..0.1'])('refuses %j', (text) => {
    expect(parseIpv4(text)).toBeNull();
  });

  it('builds masks for every prefix length', () => {
    expect(maskOf(0)).toBe(0);
    expect(maskOf(8)).toBe(0xff000000);
    expect(maskOf(24)).toBe(0xffffff00);
    expect(maskOf(31)).toBe(0xfffffffe);
    expect(maskOf(32)).toBe(0xffffffff);
  });

  it('parses subnets and refuses host bits, bad prefixes and garbage', () => {
    expect(cidr('10.213.1.0/24')).toEqual({ base: 0x0ad50100, prefix: 24 });
    expect(formatCidr(cidr('0.0.0.0/0'))).toBe('0.0.0.0/0');
    expect(formatCidr(cidr('10.1.2.3/32'))).toBe('10.1.2.3/32');
    expect(parseCidr('10.213.1.7/24')).toEqual({ error: 'has host bits set (did you mean 10.213.1.0/24?)' });
    for (const bad of ['10.0.0.0/33', '10.0.0.0', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/a', '300.0.0.0/8', '/8', '10.0.0.0/008']) {
      expect(parseCidr(bad), bad).toEqual({ error: 'is not an IPv4 subnet in CIDR notation (e.g. 10.213.1.0/24)' });
    }
  });

  it('knows the broadcast, gateway and members of a subnet', () => {
    const c = cidr('10.213.1.0/24');
    expect(formatIpv4(broadcastOf(c))).toBe('10.213.1.255');
    expect(formatIpv4(gatewayOf(c))).toBe('10.213.1.1');
    expect(contains(c, parseIpv4('10.213.1.200')!)).toBe(true);
    expect(contains(c, parseIpv4('10.213.2.1')!)).toBe(false);
    expect(formatIpv4(broadcastOf(cidr('0.0.0.0/0')))).toBe('255.255.255.255');
    expect(formatIpv4(broadcastOf(cidr('192.168.0.4/30')))).toBe('192.168.0.7');
    expect(contains(cidr('0.0.0.0/0'), 0xffffffff)).toBe(true);
  });

  it('detects overlapping subnets, in either order', () => {
    const pairs: [string, string, boolean][] = [
      ['10.0.0.0/8', '10.213.1.0/24', true],
      ['10.213.1.0/24', '10.213.1.0/24', true],
      ['10.213.1.0/24', '10.213.2.0/24', false],
      ['10.213.0.0/23', '10.213.1.0/24', true],
      ['10.213.2.0/23', '10.213.1.0/24', false],
      ['0.0.0.0/0', '192.168.1.0/24', true],
      ['192.168.0.0/30', '192.168.0.4/30', false],
    ];
    for (const [a, b, want] of pairs) {
      expect(overlaps(cidr(a), cidr(b)), `${a} ${b}`).toBe(want);
      expect(overlaps(cidr(b), cidr(a)), `${b} ${a}`).toBe(want);
    }
  });
});
