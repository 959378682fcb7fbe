// The hand-written SHA-256 is the standard one: names and hashes match what node:crypto gives.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { sha256Hex } from '../../src/model/sha256.js';

const reference = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('sha256Hex', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('matches node:crypto at every length around the block and padding boundaries, and on UTF-8', () => {
    for (let n = 0; n <= 200; n++) expect(sha256Hex('x'.repeat(n))).toBe(reference('x'.repeat(n)));
    for (const s of ['zonë', 'bridge\0web\0net0', '🦀'.repeat(30), 'é'.repeat(56)]) expect(sha256Hex(s)).toBe(reference(s));
    const big = 'abcdefgh'.repeat(100_000);
    expect(sha256Hex(big)).toBe(reference(big));
  });
});
