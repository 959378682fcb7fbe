// The property: whatever the host runs (an earlier desired state applied, then drift made by
// hand) and whatever the files say, one `up` on the fake host leaves nothing to do — the next
// plan has no actions, the host runs exactly the files — and every run executed in an order
// that respects the dependencies. Seeded: a failure prints the seed that reproduces it
// (ZONECTL_PROPERTY_SEED=N to run just that case).
import { afterEach, expect, it } from 'vitest';
import type { FakeHost } from '../../src/host/fake/index.js';
import { unlimited } from '../../src/model/limits.js';
import type { Attachment, DesiredState, Limits, Network, RestartPolicy, Zone } from '../../src/model/types.js';
import { compactPlan } from '../../src/plan/render.js';
import { expectConverged, expectOrderRespected, newHost, planOn, up, type Run } from './harness.js';

const CASES = 300;
const PROJECT = 'prop';

/** mulberry32: small, fast, good enough to spread test cases. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const chance = (p: number): boolean => next() < p;
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  const subset = <T>(xs: readonly T[], p: number): T[] => xs.filter(() => chance(p));
  return { int, chance, pick, subset };
}
type Rng = ReturnType<typeof prng>;

const NETWORK_NAMES = ['n0', 'n1', 'n2', 'n3'];
const ZONE_NAMES = ['z0', 'z1', 'z2', 'z3', 'z4', 'z5', 'z6'];

function randomLimits(r: Rng): Limits {
  const l = unlimited();
  if (r.chance(0.4)) l.cpus = { quota_us: r.pick([25_000, 50_000, 150_000]), period_us: 100_000 };
  if (r.chance(0.3)) l.cpu_weight = r.pick([50, 200, 1000]);
  if (r.chance(0.2)) l.cpuset = r.pick([[0], [1], [0, 1], [2, 3]]);
  if (r.chance(0.5)) l.memory = r.int(1, 8) * 64 * 1024 * 1024;
  if (l.memory !== null && r.chance(0.3)) l.memory_reservation = l.memory / 2;
  if (r.chance(0.4)) l.pids = r.int(16, 512);
  if (r.chance(0.2)) l.io = { weight: r.pick([10, 500]), devices: {} };
  return l;
}

function randomNetworks(r: Rng): Record<string, Network> {
  const out: Record<string, Network> = {};
  NETWORK_NAMES.forEach((name, i) => {
    if (!r.chance(0.6)) return;
    const gateway = r.chance(0.5);
    // Two subnets per name, so that a later state may move a network (a replace).
    out[name] = { name, subnet: `10.213.${i * 2 + r.int(0, 1)}.0/24`, gateway, egress: gateway && r.chance(0.5) ? 'nat' : 'none', internal: !gateway && r.chance(0.3) };
  });
  return out;
}

function randomZone(r: Rng, name: string, networks: Record<string, Network>, earlier: string[], statics: Map<string, Set<number>>): Zone {
  const attach: Record<string, Attachment> = {};
  for (const net of r.subset(Object.keys(networks), 0.5)) {
    let address: string | null = null;
    if (r.chance(0.3)) {
      const used = statics.get(net) ?? new Set<number>();
      const host = r.int(100, 110);
      if (!used.has(host)) {
        used.add(host);
        statics.set(net, used);
        address = networks[net]!.subnet.replace(/\.0\/24$/, `.${host}`);
      }
    }
    const rate = r.chance(0.3) ? r.pick([1_000_000, 20_000_000]) : null;
    attach[net] = { address, mac: null, bandwidth: r.chance(0.5) ? { ingress: rate, egress: rate } : { ingress: rate, egress: null } };
  }
  const restart: RestartPolicy = r.pick<RestartPolicy>([{ policy: 'no' }, { policy: 'always' }, { policy: 'on-failure', max_retries: 3 }]);
  return {
    name,
    hostname: r.chance(0.8) ? name : `h-${name}`,
    root: { kind: 'sparse' },
    read_only: false,
    command: [r.pick(['/bin/a', '/bin/b'])],
    workdir: '/',
    env: r.chance(0.2) ? { MODE: r.pick(['x', 'y']) } : {},
    user: null,
    mounts: [],
    limits: randomLimits(r),
    networks: Object.fromEntries(Object.keys(attach).sort().map((k) => [k, attach[k]!])),
    // Only on zones earlier in name order: always a DAG.
    depends_on: r.subset(earlier, 0.35),
    restart,
    ports: [],
    stop_grace_period: r.pick([1000, 10_000]),
    privileges: { capabilities: { add: [], drop: [] }, seccomp: 'default', userns: false },
  };
}

function randomDesired(r: Rng): DesiredState {
  const networks = randomNetworks(r);
  const names = r.subset(ZONE_NAMES, 0.55);
  const statics = new Map<string, Set<number>>();
  const zones: Record<string, Zone> = {};
  names.forEach((name, i) => {
    zones[name] = randomZone(r, name, networks, names.slice(0, i), statics);
  });
  const global = unlimited();
  if (r.chance(0.3)) global.memory = 4 * 1024 * 1024 * 1024;
  if (r.chance(0.2)) global.cpus = { quota_us: 150_000, period_us: 100_000 };
  return { project: PROJECT, files: [], global: { limits: global }, networks, zones };
}

/** A small edit of `d`, as a person would make to the files: one zone changed, removed or added. */
function mutate(r: Rng, d: DesiredState): DesiredState {
  const out = structuredClone(d);
  const names = Object.keys(out.zones);
  const z = names.length > 0 ? out.zones[r.pick(names)]! : null;
  switch (z === null ? 4 : r.int(0, 5)) {
    case 0:
      z!.limits = randomLimits(r);
      break;
    case 1:
      z!.command = [z!.command[0] === '/bin/a' ? '/bin/b' : '/bin/a'];
      break;
    case 2: {
      const nets = Object.keys(out.networks).filter((n) => !z!.networks[n]);
      if (nets.length > 0) z!.networks = Object.fromEntries(Object.entries({ ...z!.networks, [r.pick(nets)]: { address: null, mac: null, bandwidth: { ingress: null, egress: null } } }).sort(([a], [b]) => (a < b ? -1 : 1)));
      else z!.networks = {};
      break;
    }
    case 3:
      delete out.zones[z!.name];
      for (const other of Object.values(out.zones)) other.depends_on = other.depends_on.filter((x) => x !== z!.name);
      break;
    case 4: {
      const name = ZONE_NAMES.find((n) => !out.zones[n]);
      if (name !== undefined) {
        const statics = new Map<string, Set<number>>();
        for (const zone of Object.values(out.zones)) {
          for (const [net, a] of Object.entries(zone.networks)) if (a.address !== null) (statics.get(net) ?? statics.set(net, new Set()).get(net)!).add(Number(a.address.split('.')[3]));
        }
        out.zones[name] = randomZone(r, name, out.networks, Object.keys(out.zones).filter((n) => n < name), statics);
        out.zones = Object.fromEntries(Object.keys(out.zones).sort().map((k) => [k, out.zones[k]!]));
      }
      break;
    }
    default:
      z!.restart = { policy: 'always' };
      z!.stop_grace_period = 3000;
      z!.hostname = `x-${z!.name}`;
      break;
  }
  return out;
}

/** What a person (or a crash) could do to the host behind zonectl's back. Returns what it did. */
async function drift(r: Rng, host: FakeHost): Promise<string[]> {
  const done: string[] = [];
  const zones = await host.cgroup.list(PROJECT);
  for (const z of zones) {
    const k = `${PROJECT}/${z}`;
    switch (r.int(0, 9)) {
      case 0:
        host.zones.killZone(PROJECT, z, r.pick([0, 1, 137]));
        done.push(`kill ${z}`);
        break;
      case 1: {
        const l = host.cgroup.groups.get(PROJECT)?.get(z);
        if (l) {
          l.memory = r.pick([null, 32 * 1024 * 1024]);
          l.pids = r.pick([null, 7]);
          done.push(`limits of ${z} by hand`);
        }
        break;
      }
      case 2: {
        const plugs = host.net.zones.get(PROJECT)?.get(z)?.attachments ?? {};
        const net = Object.keys(plugs)[0];
        if (net !== undefined) {
          delete plugs[net];
          done.push(`ip link del veth of ${z} on ${net}`);
        }
        break;
      }
      case 3:
        // A crash between start and record: the zone runs, zonectl has no spec of it.
        await host.state.removeZone(PROJECT, z);
        done.push(`spec record of ${z} lost`);
        break;
      case 4:
        // The supervisor and its zone are gone; every record but its own stays.
        host.zones.records.delete(k);
        done.push(`supervisor of ${z} gone`);
        break;
      case 5:
        // A crash in the middle of a delete: stopped, cgroup removed, records left.
        await host.zones.stop(PROJECT, z, 0);
        await host.cgroup.remove(PROJECT, z);
        done.push(`half-deleted ${z}`);
        break;
      default:
        break;
    }
  }
  for (const net of [...(host.net.networks.get(PROJECT)?.keys() ?? [])]) {
    if (r.chance(0.15)) {
      // ip link del of the bridge: the zones' veths stay, unplugged.
      host.net.networks.get(PROJECT)!.delete(net);
      done.push(`ip link del bridge of ${net}`);
    }
  }
  return done;
}

/** Zones started (stopped) in a run, in order, from the zone driver's record of calls. */
function callsOf(host: FakeHost, from: number, kind: 'start' | 'stop'): string[] {
  return host.zones.calls.slice(from).flatMap((c) => (c.startsWith(`${kind} ${PROJECT}/`) ? [c.split(' ')[1]!.slice(PROJECT.length + 1)] : []));
}

/** depends_on as the kernel saw it: a zone started after its dependencies started in the same run. */
function expectDependsOnRespected(run: Run, started: string[], desired: DesiredState, stopped: string[], before: DesiredState, unrecorded: string[]): void {
  for (const [i, z] of started.entries()) {
    for (const dep of desired.zones[z]?.depends_on ?? []) {
      const j = started.lastIndexOf(dep);
      if (j >= 0 && run.plan.actions.some((a) => a.id === `zone.${dep}` && a.kind !== 'update')) expect(j, `${dep} started after its dependent ${z}`).toBeLessThan(i);
    }
  }
  // Pruned zones stop dependents first (as far as their records tell: a zone whose record was
  // lost has no known dependencies).
  const pruned = stopped.filter((z) => !desired.zones[z]);
  for (const [i, z] of pruned.entries()) {
    if (unrecorded.includes(z)) continue;
    for (const dep of before.zones[z]?.depends_on ?? []) {
      const j = pruned.indexOf(dep);
      if (j >= 0) expect(j, `${dep} stopped before its dependent ${z}`).toBeGreaterThan(i);
    }
  }
}

let host: FakeHost | undefined;
afterEach(async () => {
  await host?.dispose();
  host = undefined;
});

async function runCase(seed: number): Promise<void> {
  const r = prng(seed);
  host = await newHost();
  const earlier = randomDesired(r);
  const first = await up(host, earlier);
  expect(first.result.ok).toBe(true);
  expectOrderRespected(first);
  await expectConverged(host, earlier);
  const drifted = await drift(r, host);
  const unrecorded = drifted.filter((d) => d.startsWith('spec record of ')).map((d) => d.split(' ')[3]!);
  const replugBridges = drifted.filter((d) => d.startsWith('ip link del bridge of ')).map((d) => d.slice('ip link del bridge of '.length));

  // The same files (only drift to repair), a small edit, or something else entirely.
  const which = r.int(0, 2);
  const desired = which === 0 ? structuredClone(earlier) : which === 1 ? mutate(r, earlier) : randomDesired(r);
  const mark = { zones: host.zones.calls.length, net: host.net.calls.length };
  // Sometimes the apply fails half-way (a zone's start): the next run must resume.
  const failing = r.chance(0.2) ? r.pick(Object.keys(desired.zones).concat('none')) : 'none';
  if (failing !== 'none') host.zones.failOn(failing, 'start', 'ENOSPC');
  let run = await up(host, desired);
  // ZONECTL_PROPERTY_DEBUG=1 with a seed: what the case did.
  if (process.env.ZONECTL_PROPERTY_DEBUG) console.log(JSON.stringify({ seed, earlier, drifted, desired, failing }, null, 1), compactPlan(run.plan));
  expectOrderRespected(run);
  expectDependsOnRespected(run, callsOf(host, mark.zones, 'start'), desired, callsOf(host, mark.zones, 'stop'), earlier, unrecorded);
  if (!run.result.ok) {
    expect(failing, `only the injected failure may fail: ${[...run.result.results].filter(([, x]) => x.status === 'failed').map(([id]) => id).join(', ')}`).not.toBe('none');
    const m = host.zones.calls.length;
    run = await up(host, desired);
    expectOrderRespected(run);
    expectDependsOnRespected(run, callsOf(host, m, 'start'), desired, callsOf(host, m, 'stop'), earlier, unrecorded);
  }
  expect(run.result.ok, `apply failed: ${[...run.result.results].map(([id, x]) => `${id}=${x.status === 'failed' ? x.error.message : x.status}`).join(', ')}`).toBe(true);

  const after = await planOn(host, desired);
  expect(compactPlan(after), 'the plan after apply').toBe('');
  await expectConverged(host, desired);
  // Zones on a bridge deleted by hand were plugged into the new one.
  for (const net of replugBridges) {
    if (!desired.networks[net]) continue;
    const attached = new Set(host.net.calls.slice(mark.net).flatMap((c) => (c.call === 'attach' && c.network === net ? [c.zone] : [])));
    for (const [z, zone] of Object.entries(desired.zones)) if (zone.networks[net]) expect(attached.has(z), `${z} re-plugged into the new bridge of ${net}`).toBe(true);
  }
}

it(`random desired and actual states converge in one up, in dependency order (${CASES} cases)`, async () => {
  const fixed = process.env.ZONECTL_PROPERTY_SEED;
  const base = fixed !== undefined ? Number(fixed) : Math.floor(Math.random() * 2 ** 31);
  const seeds = fixed !== undefined ? [base] : Array.from({ length: CASES }, (_, i) => base + i);
  for (const seed of seeds) {
    try {
      await runCase(seed);
    } catch (err) {
      const msg = `property failed for seed ${seed} (rerun: ZONECTL_PROPERTY_SEED=${seed} npx vitest run test/reconcile/property.test.ts)`;
      console.error(msg);
      throw new Error(`${msg}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      await host?.dispose();
      host = undefined;
    }
  }
}, 60_000);
