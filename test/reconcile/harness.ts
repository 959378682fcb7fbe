// Reconcile against the fake host: what `up` does (observe, plan, execute), with the order in
// which actions started and finished recorded, and a check that the host now runs exactly
// what was desired (read from the fakes' own state, not from observe).

import { expect } from 'vitest';
import { canonical } from '../../src/app/project.js';
import { fakeHost, type FakeHost } from '../../src/host/fake/index.js';
import type { DesiredState } from '../../src/model/types.js';
import { plan, usesNftables } from '../../src/plan/plan.js';
import type { Action, Plan } from '../../src/plan/types.js';
import { execute, type ActionResult, type ExecuteResult } from '../../src/reconcile/execute.js';
import { observe } from '../../src/reconcile/observe.js';

export interface Run {
  plan: Plan;
  result: ExecuteResult;
  /** `start zone.web`, `done zone.web`, `failed zone.web`, `skipped zone.web`, in order. */
  events: string[];
}

export async function newHost(): Promise<FakeHost> {
  return fakeHost();
}

export async function planOn(host: FakeHost, desired: DesiredState, prune = true): Promise<Plan> {
  return plan(canonical(desired, host), await observe(host, desired.project, { nft: usesNftables(desired) }), { prune });
}

/** One `up`: observe, plan, execute. Throws when the plan has errors. */
export async function up(host: FakeHost, desired: DesiredState, opts: { prune?: boolean; concurrency?: number } = {}): Promise<Run> {
  const p = await planOn(host, desired, opts.prune ?? true);
  const errors = p.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`plan errors: ${errors.map((d) => `${d.id}: ${d.message}`).join('; ')}`);
  const events: string[] = [];
  const status = (r: ActionResult): string => (r.status === 'done' ? 'done' : r.status);
  const result = await execute(
    p,
    host,
    { start: (a: Action) => events.push(`start ${a.id}`), done: (a: Action, r: ActionResult) => events.push(`${status(r)} ${a.id}`) },
    { concurrency: opts.concurrency ?? 4 },
  );
  return { plan: p, result, events };
}

/**
 * Every action started only after each action it must follow had finished; a new zone only
 * after its networks had begun (execute plugs it in once they are done: the fake's attach
 * fails on a network not made yet, so convergence checks that part).
 */
export function expectOrderRespected(run: Run): void {
  const started = new Set<string>();
  const finished = new Set<string>();
  for (const e of run.events) {
    const [what, id] = e.split(' ') as [string, string];
    if (what === 'start') {
      const action = run.plan.actions.find((a) => a.id === id)!;
      for (const dep of action.after_actions) {
        const soft = action.resource === 'zone' && action.kind === 'create' && dep.startsWith('network.');
        expect((soft ? started : finished).has(dep), `${id} started before ${dep} ${soft ? 'began' : 'finished'} (events: ${run.events.join(', ')})`).toBe(true);
      }
      started.add(id);
    } else finished.add(id);
  }
}

/**
 * The fake host runs exactly `desired`: the project's cgroup, one running zone per desired
 * zone with its limits, attachments and record, every desired network, nothing else.
 */
export async function expectConverged(host: FakeHost, desired: DesiredState): Promise<void> {
  const d = canonical(desired, host);
  const project = d.project;
  const zones = Object.keys(d.zones).sort();
  expect(host.zones.running(project), 'running zones').toEqual(zones);
  expect(await host.cgroup.list(project), 'zone cgroups').toEqual(zones);
  expect([...(host.net.networks.get(project)?.keys() ?? [])].sort(), 'bridges').toEqual(Object.keys(d.networks).sort());
  expect(await host.state.networks(project), 'network records').toEqual(Object.keys(d.networks).sort());
  expect(await host.state.zones(project), 'zone records').toEqual(zones);
  if (zones.length > 0) expect(await host.cgroup.read(project, null), 'project limits').toEqual(d.global.limits);
  else if (Object.keys(d.networks).length === 0) expect(await host.cgroup.projects(), 'project cgroup').not.toContain(project);
  for (const name of zones) {
    const want = d.zones[name]!;
    expect(await host.cgroup.read(project, name), `limits of ${name}`).toEqual(want.limits);
    const rec = host.zones.records.get(`${project}/${name}`)!;
    expect(rec.zone.command, `command of ${name}`).toEqual(want.command);
    expect(host.zones.netns.has(`${project}/${name}`), `netns of ${name}`).toBe(true);
    const plugs = host.net.zones.get(project)?.get(name)?.attachments ?? {};
    expect(Object.keys(plugs).sort(), `networks of ${name}`).toEqual(Object.keys(want.networks).sort());
    for (const [net, a] of Object.entries(want.networks)) {
      if (a.address !== null) expect(plugs[net]?.address, `address of ${name} on ${net}`).toBe(a.address);
      expect(plugs[net]?.bandwidth, `bandwidth of ${name} on ${net}`).toEqual(a.bandwidth);
    }
    expect((await host.state.readZone(project, name))?.zone.command, `record of ${name}`).toEqual(want.command);
  }
}
