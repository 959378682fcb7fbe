// Unit parsing and formatting. Pure; every parser returns a value or throws UnitError
// with a message that completes the sentence `key: "value" ...`.

import type { CpuQuota } from './types.js';

export class UnitError extends Error {
  override name = 'UnitError';
}

const BINARY: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const DECIMAL: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

/** The kernel's CFS period and the smallest quota it accepts, in microseconds. */
export const CPU_PERIOD_US = 100_000;
export const CPU_MIN_QUOTA_US = 1_000;

function isUnlimited(v: unknown): v is null | 'max' {
  return v === null || v === 'max';
}

function safe(n: number, what: string): number {
  if (!Number.isSafeInteger(n)) throw new UnitError(`is too large for ${what}`);
  return n;
}

/** `512M`, `1.5G`, `64k`, `512MiB`, `1048576` → bytes; `max`/null → null. */
export function parseSize(v: unknown): number | null {
  if (isUnlimited(v)) return null;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) throw new UnitError('is not a size (e.g. 512M)');
    return safe(v, 'a size');
  }
  const m = typeof v === 'string' ? /^([0-9]+(?:\.[0-9]+)?)([kmgt]?)(?:i?b)?$/i.exec(v.trim()) : null;
  if (!m) throw new UnitError('is not a size (e.g. 512M)');
  const unit = BINARY[m[2]!.toLowerCase()]!;
  return safe(Math.floor(Number(m[1]) * unit), 'a size');
}

/** `20mbit`, `1.5gbit`, `800kbit`, `64000` (bits/s) → bits per second. */
export function parseRate(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1) throw new UnitError('is not a rate (e.g. 20mbit)');
    return safe(v, 'a rate');
  }
  const m = typeof v === 'string' ? /^([0-9]+(?:\.[0-9]+)?)([kmg]?)bit$/i.exec(v.trim()) : null;
  if (!m) throw new UnitError('is not a rate (e.g. 20mbit)');
  const bits = Math.floor(Number(m[1]) * DECIMAL[m[2]!.toLowerCase()]!);
  if (bits < 1) throw new UnitError('is below 1 bit per second');
  return safe(bits, 'a rate');
}

/** A plain count (iops, pids) or `max`/null. */
export function parseCount(v: unknown, what: string): number | null {
  if (isUnlimited(v)) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UnitError(`is not a ${what} (a whole number ≥ 1, or max)`);
  return safe(v, what);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `10s`, `1m30s` → milliseconds. */
export function parseDuration(v: unknown): number {
  if (typeof v !== 'string' || !/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(v)) throw new UnitError('is not a duration (e.g. 10s, 1m30s, 500ms)');
  let ms = 0;
  for (const m of v.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return safe(Math.round(ms), 'a duration');
}

/** CPUs as a decimal (0.5 = half of one CPU) → quota/period; `max`/null → null. */
export function parseCpus(v: unknown): CpuQuota | null {
  if (isUnlimited(v)) return null;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new UnitError('is not a number of CPUs (e.g. 0.5, 2)');
  const quota_us = Math.round(v * CPU_PERIOD_US);
  if (quota_us < CPU_MIN_QUOTA_US) throw new UnitError(`is below the kernel's minimum of ${CPU_MIN_QUOTA_US / CPU_PERIOD_US} CPUs`);
  return { quota_us, period_us: CPU_PERIOD_US };
}

export function cpusOf(q: CpuQuota): number {
  return q.quota_us / q.period_us;
}

/** `"0-2,5"` or `3` → [0, 1, 2, 5]; null → null (all CPUs). */
export function parseCpuset(v: unknown): number[] | null {
  if (v === null) return null;
  const text = typeof v === 'number' && Number.isInteger(v) && v >= 0 ? String(v) : v;
  if (typeof text !== 'string' || !/^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/.test(text)) {
    throw new UnitError('is not a CPU list (e.g. "0-1" or "0,2")');
  }
  const cpus = new Set<number>();
  for (const part of text.split(',')) {
    const [lo, hi = lo] = part.split('-').map(Number) as [number, number?];
    if (hi! < lo) throw new UnitError(`has a range that runs backwards (${part})`);
    if (hi! > 8191) throw new UnitError(`names CPU ${hi}, beyond any kernel's limit`);
    for (let c = lo; c <= hi!; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** [0, 1, 2, 5] → "0-2,5" (the kernel's own list format). */
export function formatCpuset(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Bytes → the shortest exact binary form: 268435456 → "256M", 1000 → "1000". */
export function formatSize(bytes: number | null): string {
  if (bytes === null) return 'max';
  for (const [suffix, unit] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}

/** Bits per second → "20mbit", "1.5gbit", "64000bit". */
export function formatRate(bits: number | null): string {
  if (bits === null) return 'max';
  for (const [suffix, unit] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) {
    if (bits >= unit && Number.isInteger((bits / unit) * 1000)) return `${bits / unit}${suffix}`;
  }
  return `${bits}bit`;
}

/** Milliseconds → "1m30s", "500ms". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let out = '';
  let rest = ms;
  for (const [suffix, unit] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(rest / unit);
    if (n > 0) {
      out += `${n}${suffix}`;
      rest -= n * unit;
    }
  }
  return out;
}
