// Observe: the host, read once, into a plain ActualState for the planner. The kernel is the
// truth (cgroups, processes); records fill in only what it cannot tell.

import type { ActualNetwork, ActualState, ActualZone, ZoneRunState } from '../model/actual.js';
import type { Host } from '../host/index.js';
import type { ZoneStatus } from '../host/zone/driver.js';

/** `nft`: whether to look for nftables (plan.ts: usesNftables; see HostFacts.nft). */
export async function observe(host: Host, project: string, opts: { nft: boolean }): Promise<ActualState> {
  // The host's facts (its routes: a netlink dump) are read alongside everything else.
  const factsRead = host.facts(opts);
  factsRead.catch(() => {}); // awaited at the end: a failure before that must not go unhandled
  const [projects, cgroupZones, recordedZones, recordedNetworks] = await Promise.all([
    host.cgroup.projects(),
    host.cgroup.list(project),
    host.state.zones(project),
    host.state.networks(project),
  ]);
  const hasProject = projects.includes(project);
  const names = [...new Set([...cgroupZones, ...recordedZones])].sort();
  // What each zone's cgroup and record say needs nothing else: read alongside its status and
  // the network (each waits for the one before: the network needs the supervisors' namespaces)
  const limitsRead = hasProject ? host.cgroup.read(project, null) : Promise.resolve(null);
  const inCgroup = new Set(cgroupZones);
  const zonesRead = Promise.all(
    names.map((name) => {
      const hasCgroup = inCgroup.has(name);
      // Only the memory in use of the usage: the planner warns about a cap below it.
      return Promise.all([
        host.state.readZone(project, name),
        hasCgroup ? host.cgroup.read(project, name) : null,
        hasCgroup ? host.cgroup.memoryCurrent(project, name) : null,
      ]);
    }),
  );
  limitsRead.catch(() => {}); // awaited below: a failure before that must not go unhandled
  zonesRead.catch(() => {});

  // a zone's network namespace is its supervisor's: read where one lives
  const statuses = new Map(await Promise.all(names.map(async (n) => [n, await host.zones.status(project, n)] as const)));
  const netns: Record<string, string> = {};
  for (const [n, s] of statuses) if ((s.state === 'running' || s.state === 'restarting') && s.netns !== null) netns[n] = s.netns;
  const net = await host.net.observe(project, netns);
  // A veth of a known zone that is not plugged in (off its bridge, or its zone end unreadable)
  // is a broken attachment: shown with no address, so that the plan plugs it in again, or
  // unplugs it when it is no longer wanted.
  for (const o of net.orphans) {
    if (!names.includes(o.zone)) continue;
    const seen = (net.zones[o.zone] ??= {});
    seen[o.network] ??= { address: '', mac: '', bandwidth: { ingress: null, egress: null } };
  }
  const globalLimits = await limitsRead;
  const global = globalLimits === null ? null : { limits: globalLimits };
  const reads = await zonesRead;
  const zones: Record<string, ActualZone> = {};
  names.forEach((name, i) => {
    const [record, limits, memoryCurrent] = reads[i]!;
    const run = runState(statuses.get(name)!);
    zones[name] = {
      name,
      state: run.state,
      pid: run.pid,
      exit_code: run.exit_code,
      started_at: run.started_at,
      applied: record?.zone ?? null,
      limits,
      networks: net.zones[name] ?? {},
      memory_current: memoryCurrent,
    };
  });

  const networks: Record<string, ActualNetwork> = {};
  for (const name of recordedNetworks) {
    const record = await host.state.readNetwork(project, name);
    if (record) networks[name] = { network: record.network, present: net.networks[name]?.up === true };
  }
  return { project, global, networks, zones, host: await factsRead };
}

function runState(s: ZoneStatus): { state: ZoneRunState; pid: number | null; exit_code: number | null; started_at: string | null } {
  switch (s.state) {
    case 'running':
      return { state: 'running', pid: s.pid, exit_code: null, started_at: s.startedAt.toISOString() };
    case 'restarting':
      return { state: 'restarting', pid: null, exit_code: s.exitCode, started_at: null };
    case 'exited':
      return { state: 'exited', pid: null, exit_code: s.exitCode, started_at: null };
    case 'absent':
      return { state: 'stopped', pid: null, exit_code: null, started_at: null };
    default: {
      const never: never = s;
      return never;
    }
  }
}
