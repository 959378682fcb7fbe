// Execute: maps each action of a plan to driver calls, in the plan's dependency order,
// independent actions in parallel (bounded). It decides nothing: a failed action names the
// resource, the step and the kernel's reason; its dependents are skipped; everything else
// still converges. Every action can be run again after a crash at any point.
//
// One dependency is finer than the plan's order: a new zone needs its networks' bridges only to
// plug its veths in, so it starts (cgroup, network namespace, the helper assembling its root)
// as soon as those network actions have begun, and waits for them before the plug. If one
// fails, the zone's start is called off, what it made is removed, and it is reported skipped.

import { availableParallelism } from 'node:os';
import type { Host } from '../host/index.js';
import type { ApplyReport, LimitOutcome } from '../host/cgroup/driver.js';
import type { Limits, Network, Zone } from '../model/types.js';
import { HostError } from '../host/errors.js';
import { hostsFiles } from '../host/net/hosts.js';
import { projectRules, zoneAttachments } from './rules.js';
import { assertNever, type Action, type Plan, type ResourceId } from '../plan/types.js';

export interface ExecuteEvents {
  start?(action: Action): void;
  /** A sub-step of an action (`create cgroup`, `start`...). */
  step?(action: Action, step: string): void;
  done?(action: Action, result: ActionResult): void;
}

export type ActionResult =
  | { status: 'done'; outcomes: LimitOutcome[] }
  | { status: 'failed'; step: string; error: Error }
  | { status: 'skipped'; because: ResourceId };

export interface ExecuteResult {
  results: Map<ResourceId, ActionResult>;
  ok: boolean;
}

/** A network a new zone waits for failed: the zone is skipped (see the note at the top). */
class NetworkFailed extends Error {
  constructor(readonly network: ResourceId) {
    super(`${network} failed`);
  }
}

/** A failure inside an action, naming the step that failed. */
export class StepError extends Error {
  override name = 'StepError';
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export interface ExecuteOptions {
  /** Deleted zones lose their writable layers too (`down --volumes`); their logs always go. */
  volumes?: boolean;
  /** Actions run at once, at most (default: defaultConcurrency()). */
  concurrency?: number;
}

/**
 * 16 per CPU, between 8 and 64. An action mostly waits (for a helper process, an RCU grace
 * period of a cgroup move, the kernel's netlink answers, the go of its own start), so many
 * more actions than CPUs keep them busy: an up of 100 zones on 2 CPUs took ~1.35 s at 8 in
 * flight, ~1.25 s at 16, ~1.2 s at 32. The bound keeps the processes and descriptors in
 * flight few (a handful each).
 */
export function defaultConcurrency(): number {
  return Math.min(64, Math.max(8, 16 * availableParallelism()));
}

export async function execute(plan: Plan, host: Host, events: ExecuteEvents = {}, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
  const concurrency = opts.concurrency ?? defaultConcurrency();
  const results = new Map<ResourceId, ActionResult>();
  const pending = new Map(plan.actions.map((a) => [a.id, a]));
  const planned = new Set(pending.keys());
  const running = new Map<ResourceId, Promise<void>>();
  /** Every action begun, settling when it is done (running forgets them). */
  const begun = new Map<ResourceId, Promise<void>>();
  /** A new zone's networks: waited for before its plug, not before its start (see the top). */
  const softDeps = (a: Action): ResourceId[] =>
    a.resource === 'zone' && a.kind === 'create' ? a.after_actions.filter((d) => d.startsWith('network.') && begun.has(d)) : [];

  const run = async (a: Action, soft: ResourceId[]): Promise<void> => {
    events.start?.(a);
    const outcomes: LimitOutcome[] = [];
    let step = 'start';
    const ctx: Ctx = {
      ...ctxBase,
      networksReady: async () => {
        await Promise.all(soft.map((d) => begun.get(d)));
        const failed = soft.find((d) => results.get(d)?.status !== 'done');
        if (failed !== undefined) throw new NetworkFailed(failed);
      },
      step: async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        step = name;
        events.step?.(a, name);
        try {
          return await fn();
        } catch (err) {
          // a network that failed is no failure of this step (the zone is skipped, below)
          throw err instanceof StepError || err instanceof NetworkFailed ? err : new StepError(name, err);
        }
      },
      report: (r: ApplyReport) => outcomes.push(...r.outcomes),
    };
    let result: ActionResult;
    try {
      await perform(a, ctx);
      result = { status: 'done', outcomes };
    } catch (err) {
      if (err instanceof NetworkFailed) {
        // what the called-off start left: its cgroup (the helper and the namespace are gone)
        await host.zones.stop(plan.project, a.name, 0).catch(() => {});
        await host.cgroup.remove(plan.project, a.name).catch(() => {});
        results.set(a.id, { status: 'skipped', because: err.network });
        events.done?.(a, results.get(a.id)!);
        return;
      }
      // Sub-steps may run side by side: the error names the one that failed.
      result = { status: 'failed', step: err instanceof StepError ? err.step : step, error: err instanceof Error ? err : new Error(String(err)) };
    }
    results.set(a.id, result);
    events.done?.(a, result);
  };

  // what starts need (the helper's process) readied first: its spawn and exec overlap with
  // the hosts files, the cgroups and the bridges
  const held = plan.actions.some((a) => a.resource === 'zone' && (a.kind === 'create' || a.kind === 'replace')) ? host.zones.hold() : null;
  // The project's nftables table (NAT, published ports, the segments' drop rules) needs only
  // the plan's networks and the zones' planned addresses, not the zones themselves: it is
  // applied alongside the actions, and every zone start waits until it has settled, so that
  // no zone runs before its segment's rules do.
  let rulesFailure: Error | null = null;
  // Like the hosts files it is derived state, reconciled on every run, with or without actions
  // (an unchanged table costs one netlink request): a table deleted by hand comes back.
  const rules: Promise<void> = host.net.applyRules(plan.project, projectRules(plan.zones, plan.networks)).catch((err: unknown) => {
    rulesFailure = err instanceof Error ? err : new Error(String(err));
  });
  // The project's supervisors' cgroup: made once a run, when the first zone starts.
  let supervisors: Promise<string[]> | null = null;
  const ctxBase = { host, project: plan.project, networks: plan.networks, volumes: opts.volumes === true, rules, supervisors: () => (supervisors ??= host.cgroup.supervisors(plan.project)) };
  try {
    // Every zone's /etc/hosts names the zones it shares a segment with: written before any
    // zone starts, rewritten in place for running zones as peers come and go.
    if (plan.actions.length > 0) {
      await Promise.all(Object.entries(hostsFiles(plan.zones)).map(([zone, text]) => host.state.writeHosts(plan.project, zone, text)));
    }
    while (pending.size > 0 || running.size > 0) {
      for (const a of [...pending.values()]) {
        if (running.size >= concurrency) break;
        const failedDep = a.after_actions.find((d) => {
          const r = results.get(d);
          return r !== undefined && r.status !== 'done';
        });
        if (failedDep) {
          pending.delete(a.id);
          const result: ActionResult = { status: 'skipped', because: failedDep };
          results.set(a.id, result);
          events.done?.(a, result);
          continue;
        }
        const soft = softDeps(a);
        if (!a.after_actions.every((d) => results.has(d) || !planned.has(d) || soft.includes(d))) continue;
        pending.delete(a.id);
        const p = run(a, soft).finally(() => running.delete(a.id));
        running.set(a.id, p);
        begun.set(a.id, p);
      }
      if (running.size > 0) await Promise.race(running.values());
      else if (pending.size > 0 && [...pending.values()].every((a) => a.after_actions.some((d) => !results.has(d) && pending.has(d)))) {
        throw new Error(`execute: no action can start (cycle among ${[...pending.keys()].join(', ')})`);
      }
    }
  } finally {
    held?.release();
  }
  await rules;
  if (rulesFailure !== null) results.set('rules', { status: 'failed', step: 'apply nftables rules', error: rulesFailure });
  return { results, ok: [...results.values()].every((r) => r.status === 'done') };
}

interface Ctx {
  host: Host;
  project: string;
  networks: Record<string, Network>;
  volumes: boolean;
  /** Settles once the project's nftables table is applied (or failed to). */
  rules: Promise<void>;
  /** The cgroup.procs files of the project's supervisors' cgroup, made at the first call of the run. */
  supervisors(): Promise<string[]>;
  /** Resolves once the networks a new zone waits for are made; throws NetworkFailed if one failed. */
  networksReady(): Promise<void>;
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  report(r: ApplyReport): void;
}

async function perform(a: Action, cx: Ctx): Promise<void> {
  switch (a.resource) {
    case 'global':
      return performGlobal(a, cx);
    case 'network':
      return performNetwork(a, cx);
    case 'zone':
      return performZone(a, cx);
    default:
      return assertNever(a.resource);
  }
}

async function performGlobal(a: Action, cx: Ctx): Promise<void> {
  const { host, project } = cx;
  switch (a.kind) {
    case 'create':
    case 'update':
    case 'replace': {
      const limits = (a.desired as { limits: Limits }).limits;
      cx.report(await cx.step('apply project limits', () => host.cgroup.ensureProject(project, limits)));
      return;
    }
    case 'delete':
      await cx.step('remove project networking', () => host.net.removeProject(project));
      await cx.step('remove project cgroup', () => host.cgroup.removeProject(project));
      await cx.step('remove project records', () => host.state.removeProject(project));
      return;
    default:
      return assertNever(a);
  }
}

async function performNetwork(a: Action, cx: Ctx): Promise<void> {
  const { host, project } = cx;
  switch (a.kind) {
    case 'replace':
      await cx.step('remove bridge', () => host.net.removeNetwork(project, a.name));
      await cx.step('create bridge', () => host.net.ensureNetwork(project, a.desired as Network));
      await cx.step('record', () => host.state.writeNetwork(project, a.desired as Network, host.now()));
      return;
    case 'create':
    case 'update':
      await cx.step('create bridge', () => host.net.ensureNetwork(project, a.desired as Network));
      await cx.step('record', () => host.state.writeNetwork(project, a.desired as Network, host.now()));
      return;
    case 'delete':
      await cx.step('remove bridge', () => host.net.removeNetwork(project, a.name));
      await cx.step('remove record', () => host.state.removeNetwork(project, a.name));
      return;
    default:
      return assertNever(a);
  }
}

async function stopZone(cx: Ctx, name: string): Promise<void> {
  const { host, project } = cx;
  const record = await host.state.readZone(project, name);
  const grace = record?.zone.stop_grace_period ?? 10_000;
  await cx.step('stop', () => host.zones.stop(project, name, grace));
  await cx.step('remove cgroup', () => host.cgroup.remove(project, name));
  await cx.step('remove records', () => host.state.removeZone(project, name));
}

async function startZone(cx: Ctx, zone: Zone): Promise<void> {
  const { host, project } = cx;
  // The zone's network namespace is made on a thread while its cgroup is made and limited on
  // this one, and start prepares the helper's spec; the helper begins once both are there, so
  // the zone's first process runs within its limits. Then, while the helper makes the zone's
  // layer and assembles its root, the network is plumbed (ready: start calls it once the
  // helper has the start, so that none of it delays the helper). The zone's command runs once
  // that and the project's rules are in place.
  const netns = cx.step('create network namespace', () => host.zones.prepareNetwork(project, zone.name));
  const cgroup = (async () => {
    const procs = await cx.step('create cgroup', () => host.cgroup.create(project, zone.name));
    cx.report(await cx.step('apply limits', () => host.cgroup.apply(project, zone.name, zone.limits)));
    return procs;
  })();
  const supervisorProcs = cx.step('create supervisors cgroup', () => cx.supervisors());
  // start awaits them, and rejects with their failure; one it never gets to is not the failure to report
  netns.catch(() => {});
  cgroup.catch(() => {});
  supervisorProcs.catch(() => {});
  const hosts = { type: 'bind' as const, source: host.state.hostsPath(project, zone.name), target: '/etc/hosts', read_only: true };
  const withHosts = zone.mounts.some((m) => m.target === '/etc/hosts') ? zone : { ...zone, mounts: [...zone.mounts, hosts] };
  const ready = async (): Promise<void> => {
    const ns = await netns;
    await cx.networksReady();
    await connect(cx, zone, ns.path, true);
    await cx.rules;
  };
  // A failure of ready (a link, a network) calls the start off, and is the one start rejects with.
  try {
    await cx.step('start', () => host.zones.start(project, withHosts, { cgroupProcs: cgroup, supervisorProcs, ready, netns }));
  } finally {
    await cgroup.catch(() => {}); // a start that failed before it got to the cgroup leaves nothing of it running
  }
  await cx.step('record', () => host.state.writeZone(project, zone, host.now()));
}

/** `netns`: the path of the zone's network namespace, by default its supervisor's; `fresh`: it was just made (prepareNetwork). */
async function connect(cx: Ctx, zone: Zone, netns?: string, fresh = false): Promise<void> {
  await cx.step('connect networks', async () => {
    const path = netns ?? (await supervisedNetns(cx, zone.name));
    await cx.host.net.convergeZone(cx.project, zone.name, path, zoneAttachments(zone, cx.networks), { fresh });
  });
}

/** The network namespace of a zone whose supervisor is alive (it lives in it). */
async function supervisedNetns(cx: Ctx, name: string): Promise<string> {
  const st = await cx.host.zones.status(cx.project, name);
  if ((st.state === 'running' || st.state === 'restarting') && st.netns !== null) return st.netns;
  throw new HostError(`zone ${name} is ${st.state}: it has no network namespace of its own`, { code: 'ESRCH' });
}

async function performZone(a: Action, cx: Ctx): Promise<void> {
  const { host, project } = cx;
  switch (a.kind) {
    case 'create': {
      // A half-made zone from an interrupted run: clear it first, then create.
      if ((await host.zones.status(project, a.name)).state !== 'absent') await stopZone(cx, a.name);
      await startZone(cx, a.desired as Zone);
      return;
    }
    case 'replace':
      await stopZone(cx, a.name);
      await startZone(cx, a.desired as Zone);
      return;
    case 'update': {
      const zone = a.desired as Zone;
      if (a.changes.some((c) => c.path === 'limits' || c.path.startsWith('limits.'))) {
        cx.report(await cx.step('apply limits', () => host.cgroup.apply(project, zone.name, zone.limits)));
      }
      if (a.changes.some((c) => c.path.startsWith('networks.'))) await connect(cx, zone);
      const hot = new Set(a.changes.map((c) => c.path));
      if (hot.has('hostname') || hot.has('restart') || hot.has('stop_grace_period')) {
        await cx.step('reconfigure', () =>
          host.zones.reconfigure(project, zone.name, {
            ...(hot.has('hostname') ? { hostname: zone.hostname } : {}),
            ...(hot.has('restart') ? { restart: zone.restart } : {}),
            ...(hot.has('stop_grace_period') ? { stopGraceMs: zone.stop_grace_period } : {}),
          }),
        );
      }
      await cx.step('record', () => host.state.writeZone(project, zone, host.now()));
      return;
    }
    case 'delete':
      await stopZone(cx, a.name);
      // Not in stopZone: a replaced zone starts again with the hosts file written for it.
      await cx.step('remove hosts file', () => host.state.removeHosts(project, a.name));
      await cx.step(cx.volumes ? 'remove logs and layers' : 'remove logs', () => host.zones.remove(project, a.name, { layers: cx.volumes }));
      return;
    default:
      return assertNever(a);
  }
}
