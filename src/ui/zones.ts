// ps and stats: the rows (also what --json prints) and their tables.

import { formatSize } from '../model/units.js';
import { ago, table } from './table.js';

/** One zone as `zonectl ps` shows it. */
export interface ZoneRow {
  name: string;
  /** running, exited(CODE), restarting, stopped. */
  state: string;
  pid: number | null;
  exit_code: number | null;
  started_at: string | null;
  addresses: Record<string, string>;
  limits: Record<string, unknown> | null;
}

/** One zone's usage over an interval, as `zonectl stats` shows it. */
export interface StatsRow {
  name: string;
  /** Percent of one CPU over the interval (200 = two CPUs busy). */
  cpu_percent: number;
  memory: { current: number; limit: number | null; peak: number | null; oom_kills: number };
  pids: { current: number; limit: number | null };
  io: { read_bytes: number; write_bytes: number };
  cpu_throttled_periods: number;
}

export function psTable(rows: readonly ZoneRow[], now: Date): string {
  if (rows.length === 0) return 'no zones\n';
  return table(
    ['ZONE', 'STATE', 'PID', 'UPTIME', 'ADDRESSES', 'LIMITS'],
    rows.map((r) => [
      r.name,
      r.state,
      r.pid === null ? '-' : String(r.pid),
      r.started_at ? ago((now.getTime() - Date.parse(r.started_at)) / 1000) : '-',
      Object.entries(r.addresses).map(([n, a]) => `${n}=${a}`).join(' ') || '-',
      limitsSummary(r.limits),
    ]),
  );
}

function limitsSummary(l: Record<string, unknown> | null): string {
  if (!l) return '-';
  const parts: string[] = [];
  if (l.cpus !== null) parts.push(`cpus=${String(l.cpus)}`);
  if (l.cpuset !== null) parts.push(`cpuset=${String(l.cpuset)}`);
  if (typeof l.memory === 'number') parts.push(`memory=${formatSize(l.memory)}`);
  if (l.pids !== null) parts.push(`pids=${String(l.pids)}`);
  return parts.join(' ') || 'none';
}

export function statsTable(rows: readonly StatsRow[]): string {
  if (rows.length === 0) return 'no zones\n';
  return table(
    ['ZONE', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'OOM', 'PIDS', 'BLOCK I/O'],
    rows.map((r) => [
      r.name,
      `${r.cpu_percent.toFixed(1)}%`,
      `${formatSize(roundK(r.memory.current))} / ${r.memory.limit === null ? 'max' : formatSize(r.memory.limit)}`,
      r.memory.limit ? `${((r.memory.current / r.memory.limit) * 100).toFixed(1)}%` : '-',
      String(r.memory.oom_kills),
      `${r.pids.current}${r.pids.limit === null ? '' : ` / ${r.pids.limit}`}`,
      `${formatSize(roundK(r.io.read_bytes))} / ${formatSize(roundK(r.io.write_bytes))}`,
    ]),
  );
}

/** Round to a whole KiB above 1 MiB so sizes print short (formatSize is exact). */
function roundK(n: number): number {
  return n >= 1 << 20 ? Math.round(n / (1 << 20)) * (1 << 20) : n >= 1024 ? Math.round(n / 1024) * 1024 : n;
}
