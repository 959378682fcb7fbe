// Bandwidth as token buckets. The model speaks bits per second; tbf takes bytes per second,
// a burst and a queue limit in bytes. Pure.

import type { Bandwidth } from '../../model/types.js';

export interface TbfParams {
  /** Bytes per second. */
  rate: number;
  /** Bytes that may leave at line rate: 20 ms worth, at least two full frames. */
  burst: number;
  /** Bytes queued before dropping: the burst plus 100 ms worth (fewer drops, steadier TCP). */
  limit: number;
}

const FRAME = 1514;

export function tbfFor(bitsPerSecond: number): TbfParams {
  const rate = Math.max(1, Math.round(bitsPerSecond / 8));
  const burst = Math.max(2 * FRAME, Math.ceil(rate / 50));
  return { rate, burst, limit: burst + Math.max(2 * FRAME, Math.ceil(rate / 10)) };
}

/** A rate as the kernel keeps it (whole bytes per second), back in bits per second. */
export function canonicalRate(bitsPerSecond: number | null): number | null {
  return bitsPerSecond === null ? null : tbfFor(bitsPerSecond).rate * 8;
}

/** `bandwidth` as observe() will read it back once applied: compare this with the observation. */
export function canonicalBandwidth(b: Bandwidth): Bandwidth {
  return { ingress: canonicalRate(b.ingress), egress: canonicalRate(b.egress) };
}
