// A 64-bit hash of a string, as 16 hex digits: interface names, MACs, spec hashes and layer
// keys are short hashes of project and names (DESIGN.md). Not cryptographic, and need not be:
// nothing is secret, and a clash is caught (the kernel answers EEXIST for a taken name). What
// it must be is stable across versions (names and recorded hashes outlive a zonectl upgrade;
// test/model/hash.test.ts pins known values) and cheap from the first call: a cold process
// hashes a few hundred names, where node:crypto cost ~4 ms to load and a SHA-256 in JavaScript
// ~70 µs a call before V8 optimised it.

/** Two lanes of FNV-1a (different offsets and primes), each finished with murmur3's fmix32 and mixed with the other. */
export function hash64Hex(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x2c1b3c6d);
  }
  a = fmix32(a ^ Math.imul(b, 0x9e3779b1) ^ text.length);
  b = fmix32(b ^ a);
  return hex8(a) + hex8(b);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const hex8 = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');
