// Parsing and formatting of cgroup control file contents. Pure.

import { HostError } from '../errors.js';

/** v1 memory files report "unlimited" as PAGE_COUNTER_MAX * PAGE_SIZE (9223372036854771712); anything this large is unlimited. */
const V1_UNLIMITED_FLOOR = 2n ** 62n;

/** A whole number from a control file; `path` names the file in the error. */
export function parseCount(text: string, path: string): number {
  const t = text.trim();
  if (!/^-?[0-9]+$/.test(t)) throw new HostError(`read ${path}: unexpected content ${JSON.stringify(t)}`, { path });
  const n = Number(t);
  if (!Number.isSafeInteger(n)) throw new HostError(`read ${path}: ${t} is beyond a safe integer`, { path });
  return n;
}

/** v2 style: `max` → null, else a count. */
export function parseMax(text: string, path: string): number | null {
  return text.trim() === 'max' ? null : parseCount(text, path);
}

export function formatMax(n: number | null): string {
  return n === null ? 'max' : String(n);
}

/** v1 style: `-1` or a huge page-counter maximum → null, else a count. */
export function parseV1Limit(text: string, path: string): number | null {
  const t = text.trim();
  if (t === '-1' || t === 'max') return null;
  if (/^[0-9]+$/.test(t) && BigInt(t) >= V1_UNLIMITED_FLOOR) return null;
  return parseCount(t, path);
}

export function formatV1Limit(n: number | null): string {
  return n === null ? '-1' : String(n);
}

/** `key value` lines (cpu.stat, memory.events, memory.stat) → map of numbers. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === undefined || key === '' || value === undefined) continue;
    const n = Number(value);
    if (Number.isFinite(n)) out.set(key, n);
  }
  return out;
}

/** `KEY k=v k=v` lines (io.max, io.stat) → KEY → { k: v }. */
export function parseNestedKeyed(text: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const line of text.split('\n')) {
    const [key, ...pairs] = line.trim().split(/\s+/);
    if (key === undefined || key === '') continue;
    const fields: Record<string, string> = {};
    for (const p of pairs) {
      const eq = p.indexOf('=');
      if (eq > 0) fields[p.slice(0, eq)] = p.slice(eq + 1);
    }
    out.set(key, fields);
  }
  return out;
}

/** v1 `MAJ:MIN VALUE` lines (blkio.throttle.*_device) → MAJ:MIN → value. */
export function parseDeviceLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([0-9]+:[0-9]+)\s+([0-9]+)$/.exec(line.trim());
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** `0-2,5` (or empty) → [0, 1, 2, 5]. */
export function parseCpuList(text: string, path: string): number[] {
  const t = text.trim();
  if (t === '') return [];
  const out: number[] = [];
  for (const part of t.split(',')) {
    const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(part);
    if (!m) throw new HostError(`read ${path}: unexpected CPU list ${JSON.stringify(t)}`, { path });
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** PIDs, one per line (cgroup.procs). */
export function parsePids(text: string): number[] {
  return text.split('\n').filter((l) => l.trim() !== '').map(Number).filter(Number.isInteger);
}
