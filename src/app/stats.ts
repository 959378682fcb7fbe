// `zonectl stats`: live usage from the zones' cgroups. CPU % is measured over an interval
// (the difference of two readings of the cgroup's cpu time), like docker stats.

import { loadConfig, type LoadOptions } from '../config/load.js';
import type { Usage } from '../host/cgroup/driver.js';
import { createHost, type Host, type HostOptions } from '../host/index.js';
import type { StatsRow } from '../ui/zones.js';

export interface StatsSource {
  project: string;
  host: Host;
}

export async function openStats(opts: LoadOptions & HostOptions): Promise<StatsSource> {
  const { desired } = loadConfig(opts);
  return { project: desired.project, host: await createHost(opts) };
}

async function readAll(src: StatsSource): Promise<Map<string, { at: bigint; usage: Usage }>> {
  const zones = await src.host.cgroup.list(src.project);
  const out = new Map<string, { at: bigint; usage: Usage }>();
  await Promise.all(
    zones.map(async (z) => {
      out.set(z, { at: process.hrtime.bigint(), usage: await src.host.cgroup.usage(src.project, z) });
    }),
  );
  return out;
}

/** Rows over one interval of `intervalMs`; pass the previous reading to keep streaming. */
export async function sample(src: StatsSource, intervalMs: number, previous?: Map<string, { at: bigint; usage: Usage }>) {
  const before = previous ?? (await readAll(src));
  if (!previous) await new Promise((r) => setTimeout(r, intervalMs));
  const after = await readAll(src);
  const rows: StatsRow[] = [];
  for (const [name, now] of [...after].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const then = before.get(name);
    const elapsedNs = then ? Number(now.at - then.at) : 0;
    const cpuNs = then ? now.usage.cpu.usage_ns - then.usage.cpu.usage_ns : 0;
    const u = now.usage;
    rows.push({
      name,
      cpu_percent: elapsedNs > 0 ? Math.max(0, (cpuNs / elapsedNs) * 100) : 0,
      memory: { current: u.memory.current, limit: u.memory.limit, peak: u.memory.peak, oom_kills: u.memory.oom_kills },
      pids: u.pids,
      io: { read_bytes: u.io.read_bytes, write_bytes: u.io.write_bytes },
      cpu_throttled_periods: u.cpu.throttled_periods,
    });
  }
  return { rows, reading: after };
}
