// plan(desired, actual): the difference between what the files say and what the host runs,
// as a list of typed actions in a valid execution order. Pure: no I/O, no clock, no
// randomness; keys are visited in sorted order so the same inputs give the same plan.

import type { ActualState, ActualZone } from '../model/actual.js';
import { NETWORK_FIELDS, ZONE_FIELDS, sameJson as same, type ChangeRule } from '../model/fields.js';
import { overlaps, parseCidr } from '../model/ipv4.js';
import type { Attachment, DesiredState, Limits, Network, Zone } from '../model/types.js';
import { formatCpuset, formatSize } from '../model/units.js';
import { resolveAttachments } from './ipam.js';
import { PLAN_FORMAT_VERSION, type Action, type Diagnostic, type FieldChange, type Plan, type ResourceId } from './types.js';

export interface PlanOptions {
  /** Delete zones and networks of the project that the files no longer declare (default true). */
  prune?: boolean;
}

const sorted = <T>(o: Record<string, T>): [string, T][] => Object.keys(o).sort().map((k) => [k, o[k]!]);

export function plan(desired: DesiredState, actual: ActualState, opts: PlanOptions = {}): Plan {
  const prune = opts.prune ?? true;
  const diagnostics: Diagnostic[] = [];
  const actions: Action[] = [];
  const zones = resolveAttachments(desired, actual, diagnostics);

  // The global zone: the project's parent cgroup.
  const hasZones = Object.keys(zones).length > 0;
  if (hasZones && actual.global === null) {
    actions.push({ kind: 'create', id: 'global', resource: 'global', name: desired.project, cause: 'the project has no cgroup yet', after_actions: [], desired: desired.global });
  } else if (hasZones && actual.global) {
    const changes = limitChanges('limits', actual.global.limits, desired.global.limits);
    if (changes.length > 0) actions.push({ kind: 'update', id: 'global', resource: 'global', name: desired.project, cause: 'global limits changed', after_actions: [], desired: desired.global, changes });
  }
  checkCpuset(actual, 'global', desired.global.limits, diagnostics);
  checkNft(desired, actual, diagnostics);

  // Networks.
  const replacedNetworks = new Set<string>();
  for (const [name, want] of sorted(desired.networks)) {
    const have = actual.networks[name];
    const id = `network.${name}`;
    if (!have || !have.present) {
      actions.push({ kind: 'create', id, resource: 'network', name, cause: have ? 'the bridge is missing' : 'declared in the files', after_actions: [], desired: want });
      checkRoutes(actual, name, want, diagnostics);
      continue;
    }
    const changes = fieldChanges(NETWORK_FIELDS, have.network, want);
    const replacePaths = changes.filter((c) => c.rule === 'replace').map((c) => c.path);
    if (replacePaths.length > 0) {
      replacedNetworks.add(name);
      actions.push({ kind: 'replace', id, resource: 'network', name, cause: `${replacePaths.join(', ')} changed`, after_actions: [], desired: want, changes, replace_paths: replacePaths });
      checkRoutes(actual, name, want, diagnostics);
    } else if (changes.length > 0) {
      actions.push({ kind: 'update', id, resource: 'network', name, cause: `${changes.map((c) => c.path).join(', ')} changed`, after_actions: [], desired: want, changes });
    }
  }

  // Zones.
  for (const [name, want] of sorted(zones)) {
    const have = actual.zones[name];
    const id = `zone.${name}`;
    checkCpuset(actual, id, want.limits, diagnostics);
    if (!have) {
      actions.push({ kind: 'create', id, resource: 'zone', name, cause: 'declared in the files', after_actions: [], desired: want });
      continue;
    }
    const changes = zoneChanges(have, want, replacedNetworks);
    const replacePaths = changes.filter((c) => c.rule === 'replace').map((c) => c.path);
    // A zone whose cgroup is gone runs unconfined: only a restart puts it back in one.
    const dead = have.state === 'exited' || have.state === 'stopped' || have.applied === null || have.limits === null;
    if (replacePaths.length > 0 || dead) {
      const cause =
        replacePaths.length > 0 ? `${replacePaths.join(', ')} changed`
        : have.applied === null ? 'zonectl has no record of how it was made'
        : have.state === 'exited' ? `it exited (code ${have.exit_code ?? '?'})`
        : have.state === 'stopped' ? 'it is not running'
        : 'its cgroup is missing';
      actions.push({ kind: 'replace', id, resource: 'zone', name, cause, after_actions: [], desired: want, changes, replace_paths: replacePaths });
    } else if (changes.length > 0) {
      actions.push({ kind: 'update', id, resource: 'zone', name, cause: `${changes.map((c) => c.path).join(', ')} changed`, after_actions: [], desired: want, changes });
      checkShrink(have, want, diagnostics);
    }
  }

  // Prune what the files no longer declare: zones first, then networks, then the project.
  if (prune) {
    for (const [name] of sorted(actual.zones)) {
      if (!zones[name]) actions.push({ kind: 'delete', id: `zone.${name}`, resource: 'zone', name, cause: 'no longer declared in the files', after_actions: [] });
    }
    for (const [name] of sorted(actual.networks)) {
      if (!desired.networks[name]) actions.push({ kind: 'delete', id: `network.${name}`, resource: 'network', name, cause: 'no longer declared in the files', after_actions: [] });
    }
    // Deleting the project removes all its networking too: not while networks are declared.
    const hasNetworks = Object.keys(desired.networks).length > 0;
    if (!hasZones && !hasNetworks && actual.global) actions.push({ kind: 'delete', id: 'global', resource: 'global', name: desired.project, cause: 'the project has no zones', after_actions: [] });
  }

  linkDependencies(actions, zones, actual);
  return { format_version: PLAN_FORMAT_VERSION, project: desired.project, zones, networks: desired.networks, actions: order(actions), diagnostics };
}

// ---------------------------------------------------------------- field diffs

function fieldChanges<T extends object>(table: Record<string, ChangeRule>, before: T, after: T): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const [field, rule] of Object.entries(table)) {
    if (rule === 'ordering') continue;
    const b = (before as Record<string, unknown>)[field];
    const a = (after as Record<string, unknown>)[field];
    if (!same(b, a)) changes.push({ path: field, before: b, after: a, rule });
  }
  return changes;
}

function limitChanges(prefix: string, before: Limits, after: Limits): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const key of Object.keys(after).sort() as (keyof Limits)[]) {
    if (key === 'io') {
      if (before.io.weight !== after.io.weight) changes.push({ path: `${prefix}.io.weight`, before: before.io.weight, after: after.io.weight, rule: 'in-place' });
      if (!same(before.io.devices, after.io.devices)) changes.push({ path: `${prefix}.io.devices`, before: before.io.devices, after: after.io.devices, rule: 'in-place' });
      continue;
    }
    if (!same(before[key], after[key])) changes.push({ path: `${prefix}.${key}`, before: before[key], after: after[key], rule: 'in-place' });
  }
  return changes;
}

function attachmentView(a: Attachment | { address: string; mac: string; bandwidth: Attachment['bandwidth'] }) {
  return { address: a.address, mac: a.mac, bandwidth: a.bandwidth };
}

function zoneChanges(have: ActualZone, want: Zone, replacedNetworks: Set<string>): FieldChange[] {
  const applied = have.applied;
  const changes: FieldChange[] = [];
  for (const [field, rule] of Object.entries(ZONE_FIELDS) as [keyof typeof ZONE_FIELDS, ChangeRule][]) {
    if (rule === 'ordering') continue;
    if (field === 'limits') {
      // Read back from the kernel: drift made by hand shows here.
      if (have.limits === null) changes.push({ path: 'limits', before: null, after: want.limits, rule: 'in-place' });
      else changes.push(...limitChanges('limits', have.limits, want.limits));
      continue;
    }
    if (field === 'networks') {
      const names = [...new Set([...Object.keys(have.networks), ...Object.keys(want.networks)])].sort();
      for (const net of names) {
        const b = have.networks[net];
        const a = want.networks[net];
        if (!b || !a) {
          changes.push({ path: `networks.${net}`, before: b ? attachmentView(b) : null, after: a ? attachmentView(a) : null, rule: 'in-place' });
          continue;
        }
        if (replacedNetworks.has(net)) {
          changes.push({ path: `networks.${net}`, before: attachmentView(b), after: attachmentView(a), rule: 'in-place' });
          continue;
        }
        for (const key of ['address', 'mac', 'bandwidth'] as const) {
          if (!same(b[key], a[key])) changes.push({ path: `networks.${net}.${key}`, before: b[key], after: a[key], rule: 'in-place' });
        }
      }
      continue;
    }
    if (applied === null) continue;
    if (!same(applied[field], want[field])) changes.push({ path: field, before: applied[field], after: want[field], rule });
  }
  return changes;
}

// ---------------------------------------------------------------- checks needing host facts

function checkCpuset(actual: ActualState, id: ResourceId, limits: Limits, diagnostics: Diagnostic[]): void {
  if (limits.cpuset === null || actual.host.cpus.length === 0) return;
  const missing = limits.cpuset.filter((c) => !actual.host.cpus.includes(c));
  if (missing.length > 0) {
    diagnostics.push({ severity: 'error', id, path: 'limits.cpuset', message: `cpuset ${formatCpuset(limits.cpuset)} names CPU ${formatCpuset(missing)}, which this host does not have (online: ${formatCpuset(actual.host.cpus)})` });
  }
}

/**
 * Whether the desired state needs the project's nftables table: a segment with a gateway (the
 * host routes for it: the table keeps it apart from other segments, and holds its NAT and
 * published ports). A segment without one needs no rule (src/host/net/nft.ts says why).
 */
export function usesNftables(desired: DesiredState): boolean {
  return Object.values(desired.networks).some((n) => n.gateway);
}

/** The rules of segments with a gateway live in an nftables table: without nft, say so before applying. */
function checkNft(desired: DesiredState, actual: ActualState, diagnostics: Diagnostic[]): void {
  if (actual.host.nft !== false) return;
  const need = 'nftables (libnftables), which this host lacks (install the Debian package nftables)';
  for (const [name, n] of sorted(desired.networks)) {
    if (n.egress === 'nat') diagnostics.push({ severity: 'error', id: `network.${name}`, path: 'egress', message: `egress: nat needs ${need}` });
    else if (n.gateway) diagnostics.push({ severity: 'error', id: `network.${name}`, path: 'gateway', message: `a gateway needs ${need}, to keep the segment apart from the others the host routes for` });
  }
  for (const [name, z] of sorted(desired.zones)) {
    if (z.ports.length > 0) diagnostics.push({ severity: 'error', id: `zone.${name}`, path: 'ports', message: `published ports need ${need}` });
  }
}

function checkRoutes(actual: ActualState, name: string, network: Network, diagnostics: Diagnostic[]): void {
  const mine = parseCidr(network.subnet);
  if ('error' in mine) return;
  for (const route of actual.host.routes) {
    const r = parseCidr(route);
    if ('error' in r || r.prefix === 0) continue; // the default route overlaps everything by design
    if (overlaps(mine, r)) {
      diagnostics.push({ severity: 'error', id: `network.${name}`, path: 'subnet', message: `subnet ${network.subnet} overlaps the host's route to ${route}` });
    }
  }
}

function checkShrink(have: ActualZone, want: Zone, diagnostics: Diagnostic[]): void {
  const cap = want.limits.memory;
  if (cap !== null && have.memory_current !== null && cap < have.memory_current) {
    diagnostics.push({ severity: 'warning', id: `zone.${want.name}`, path: 'limits.memory', message: `memory ${formatSize(cap)} is below what zone ${want.name} uses now (${formatSize(have.memory_current)}): reclaim will be tried, and the change reported as deferred if it cannot shrink` });
  }
}

// ---------------------------------------------------------------- ordering

function linkDependencies(actions: Action[], zones: Record<string, Zone>, actual: ActualState): void {
  const byId = new Map(actions.map((a) => [a.id, a]));
  const need = (a: Action, dep: ResourceId): void => {
    if (byId.has(dep) && dep !== a.id && !a.after_actions.includes(dep)) a.after_actions.push(dep);
  };
  const zoneDeletes = actions.filter((a) => a.resource === 'zone' && a.kind === 'delete').map((a) => a.id);
  for (const a of actions) {
    if (a.resource === 'zone' && a.kind !== 'delete') {
      const zone = zones[a.name]!;
      // Pruned zones go first: they may hold an address or a host port a new zone takes.
      if (a.kind !== 'update') for (const d of zoneDeletes) need(a, d);
      if (byId.get('global')?.kind !== 'delete') need(a, 'global');
      for (const net of Object.keys(zone.networks)) if (byId.get(`network.${net}`)?.kind !== 'delete') need(a, `network.${net}`);
      for (const dep of zone.depends_on) {
        const d = byId.get(`zone.${dep}`);
        if (d && (d.kind === 'create' || d.kind === 'replace')) need(a, d.id);
      }
    }
    if (a.kind === 'delete' && a.resource === 'zone') {
      // Stop dependents before what they depend on (reverse of start order).
      for (const [name, z] of Object.entries(actual.zones)) {
        if (name !== a.name && z.applied?.depends_on.includes(a.name) && byId.get(`zone.${name}`)?.kind === 'delete') need(a, `zone.${name}`);
      }
    }
    if (a.kind === 'delete' && a.resource === 'network') {
      for (const b of actions) if (b.resource === 'zone' && b.kind !== 'create') need(a, b.id);
    }
    if (a.kind === 'delete' && a.resource === 'global') {
      for (const b of actions) if (b.resource === 'zone' || b.resource === 'network') need(a, b.id);
    }
  }
  for (const a of actions) a.after_actions.sort();
}

const RANK: Record<string, number> = { global: 0, network: 1, zone: 2 };

/**
 * A topological order (Kahn), ties broken by resource kind, then id: deterministic. The ready
 * actions wait in a binary heap: with 1,000 actions, scanning and sorting every pending
 * action for each one placed took a third of the planner's CPU.
 */
function order(actions: Action[]): Action[] {
  const byId = new Map(actions.map((a) => [a.id, a]));
  const before = (x: Action, y: Action): boolean => RANK[x.resource]! - RANK[y.resource]! < 0 || (x.resource === y.resource && x.id < y.id);
  /** Unplaced dependencies of each action (those in the plan); the actions waiting on each. */
  const waits = new Map<ResourceId, number>();
  const dependents = new Map<ResourceId, Action[]>();
  const heap: Action[] = [];
  for (const a of actions) {
    const deps = a.after_actions.filter((d) => byId.has(d));
    waits.set(a.id, deps.length);
    for (const d of deps) (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(a);
    if (deps.length === 0) push(heap, a, before);
  }
  const out: Action[] = [];
  while (heap.length > 0) {
    const next = pop(heap, before);
    out.push(next);
    for (const b of dependents.get(next.id) ?? []) {
      const left = waits.get(b.id)! - 1;
      waits.set(b.id, left);
      if (left === 0) push(heap, b, before);
    }
  }
  if (out.length < actions.length) {
    // Cannot happen for a validated configuration (depends_on cycles are refused); fail loudly.
    throw new Error(`plan: dependency cycle among ${actions.filter((a) => !out.includes(a)).map((a) => a.id).join(', ')}`);
  }
  return out;
}

function push<T>(heap: T[], x: T, before: (a: T, b: T) => boolean): void {
  let i = heap.push(x) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function pop<T>(heap: T[], before: (a: T, b: T) => boolean): T {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length > 0) {
    heap[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  }
  return top;
}
