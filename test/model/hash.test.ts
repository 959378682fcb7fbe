// The short hash behind names, MACs and spec hashes: stable (these values must never change:
// names and recorded hashes outlive an upgrade), and spread well enough for 40-bit names.
import { describe, expect, it } from 'vitest';

import { hash64Hex } from '../../src/model/hash.js';

describe('hash64Hex', () => {
  it('gives the same 16 hex digits as every earlier version', () => {
    expect(hash64Hex('')).toBe(PINNED['']);
    expect(hash64Hex('bridge\0web\0front')).toBe(PINNED['bridge\0web\0front']);
    expect(hash64Hex('veth\0web\0api\0front')).toBe(PINNED['veth\0web\0api\0front']);
    expect(hash64Hex('zonë 🦀')).toBe(PINNED['zonë 🦀']);
  });

  it('has no clash in the 40 bits a name keeps over 200,000 similar inputs, and every output bit flips about half the time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) seen.add(hash64Hex(`veth\0project\0zone${i}\0net${i % 7}`).slice(0, 10));
    expect(seen.size).toBe(200_000);
    // one input bit changed: each of the 64 output bits flips with probability ~1/2
    const flips = new Array<number>(64).fill(0);
    const n = 2000;
    for (let i = 0; i < n; i++) {
      // 'a' and 'c' differ in one bit
      const x = BigInt(`0x${hash64Hex(`key${i}a`)}`) ^ BigInt(`0x${hash64Hex(`key${i}c`)}`);
      for (let bit = 0; bit < 64; bit++) if ((x >> BigInt(bit)) & 1n) flips[bit]!++;
    }
    for (const f of flips) {
      expect(f / n).toBeGreaterThan(0.4);
      expect(f / n).toBeLessThan(0.6);
    }
  });
});

const PINNED: Record<string, string> = {
  '': '2ff4599004351e0e',
  'bridge\0web\0front': '6fdd3db13cfb7de2',
  'veth\0web\0api\0front': 'dbb695aece87cbd5',
  'zonë 🦀': '6cb7464df3ade780',
};
