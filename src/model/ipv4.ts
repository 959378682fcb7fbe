// IPv4 addresses and subnets as 32-bit unsigned numbers. Pure.

export interface Cidr {
  /** The network address. */
  base: number;
  prefix: number;
}

export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p.startsWith('0'))) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** `10.1.2.0/24` → { base, prefix }; `{ error }` says what is wrong (host bits set included). */
export function parseCidr(text: string): Cidr | { error: string } {
  const [ip, len, extra] = text.split('/');
  const addr = ip === undefined ? null : parseIpv4(ip);
  if (addr === null || len === undefined || extra !== undefined || !/^[0-9]{1,2}$/.test(len) || Number(len) > 32) {
    return { error: 'is not an IPv4 subnet in CIDR notation (e.g. 10.213.1.0/24)' };
  }
  const prefix = Number(len);
  const base = (addr & maskOf(prefix)) >>> 0;
  if (base !== addr) return { error: `has host bits set (did you mean ${formatIpv4(base)}/${prefix}?)` };
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

export function broadcastOf(c: Cidr): number {
  return (c.base | ~maskOf(c.prefix)) >>> 0;
}

export function contains(c: Cidr, addr: number): boolean {
  return ((addr & maskOf(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return ((a.base & maskOf(prefix)) >>> 0) === ((b.base & maskOf(prefix)) >>> 0);
}

/** The host's address on a segment with a gateway: the first usable address. */
export function gatewayOf(c: Cidr): number {
  return c.base + 1;
}
