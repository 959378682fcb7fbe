// observe → plan → execute on the fake host: convergence, failures that name zone, step and
// reason and skip only their dependents, the order of execution, repair of half-made zones.
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeHost } from '../../src/host/fake/index.js';
import { compactPlan } from '../../src/plan/render.js';
import { resultText } from '../../src/ui/apply.js';
import { desiredFrom } from '../helpers/state.js';
import { expectConverged, expectOrderRespected, newHost, planOn, up } from './harness.js';

const BASE = `
networks:
  front: { subnet: 10.213.1.0/24, gateway: true }
  back: { subnet: 10.213.2.0/24 }
zones:
  web:
    command: ["node", "/srv/web.js"]
    limits: { cpus: 0.5, memory: 128M }
    networks:
      front: { address: 10.213.1.10, bandwidth: 20mbit }
    depends_on: [api]
  api:
    command: /bin/api
    networks: [front, back]
    depends_on: [db]
  db:
    command: /bin/db
    limits: { memory: 256M }
    networks: [back]
  cron:
    command: /bin/cron
    limits: { pids: 16 }
`;

let host: FakeHost;
afterEach(async () => host?.dispose());

describe('reconcile on the fake host', () => {
  it('converges: a second plan after execute has no actions, and the host runs exactly the files', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    const first = await up(host, d);
    expect(first.result.ok).toBe(true);
    expect(first.plan.actions).toHaveLength(7);
    expect([...first.result.results.values()].every((r) => r.status === 'done')).toBe(true);
    await expectConverged(host, d);
    expect(compactPlan(await planOn(host, d))).toBe('');
    // Nothing was started twice, nothing stopped.
    expect(host.zones.calls.filter((c) => c.startsWith('start '))).toHaveLength(4);
    expect(host.zones.calls.filter((c) => c.startsWith('stop '))).toEqual([]);
    // the helper was readied once for the run, held by every start, and let go at its end
    expect([host.zones.holdsTaken, host.zones.startsHeld, host.zones.holding]).toEqual([1, 4, 0]);
    // every supervisor lives in the project's supervisors' cgroup, made once for the run
    expect(host.cgroup.calls.filter((c) => c.startsWith('cgroup.supervisors '))).toEqual([`cgroup.supervisors ${d.project}`]);
    for (const r of host.zones.records.values()) expect(r.supervisorProcs).toEqual([`/fake/cgroup/zonectl/${d.project}.supervisors/cgroup.procs`]);

    const callsBefore = host.zones.calls.length + host.cgroup.calls.length;
    const netBefore = host.net.calls.length;
    const again = await up(host, d);
    expect(again.plan.actions).toEqual([]);
    // Nothing touches a zone; only the derived nftables table is checked (a no-op when unchanged).
    expect(host.zones.calls.length + host.cgroup.calls.length).toBe(callsBefore);
    expect(host.net.calls.slice(netBefore).map((c) => c.call)).toEqual(['applyRules']);
    expect(host.zones.holdsTaken).toBe(1); // nothing to start: no helper readied
  });

  it('a failed action names zone, step and reason; its dependents are skipped; unrelated zones still converge', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    host.zones.failOn('db', 'start', 'ENOSPC');
    const run = await up(host, d);
    expect(run.result.ok).toBe(false);
    const db = run.result.results.get('zone.db');
    expect(db?.status).toBe('failed');
    expect(db?.status === 'failed' && db.step).toBe('start');
    expect(db?.status === 'failed' && db.error.message).toMatch(/^start: start zone db: ENOSPC$/);
    // api depends on db, web on api: both skipped, each naming what it waited for.
    expect(run.result.results.get('zone.api')).toEqual({ status: 'skipped', because: 'zone.db' });
    expect(run.result.results.get('zone.web')).toEqual({ status: 'skipped', because: 'zone.api' });
    expect(run.result.results.get('zone.cron')?.status).toBe('done');
    expect(host.zones.running('proj')).toEqual(['cron']);
    expect(host.zones.calls.filter((c) => c.startsWith('start ')).sort()).toEqual(['start proj/cron', 'start proj/db']);
    // What the user reads.
    expect(resultText(run.plan, run.result)).toBe(
      ['error: zone.db: start: start zone db: ENOSPC', 'skipped: zone.api: zone.db failed', 'skipped: zone.web: zone.api failed', 'some changes failed: run zonectl up again to resume from what is actually there', ''].join('\n'),
    );
    // The half-made db (cgroup, netns, veth, no process) is repaired by the next run, which resumes.
    const next = await up(host, d);
    expect(next.result.ok).toBe(true);
    expect(compactPlan(next.plan).split('\n').map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['replace zone.db', 'create zone.api', 'create zone.web']);
    await expectConverged(host, d);
    expect((await planOn(host, d)).actions).toEqual([]);
  });

  it("a supervisors' cgroup that cannot be made fails the starts of the run, and nothing of them runs", async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    host.cgroup.failOn(null, 'supervisors', 'EACCES');
    const run = await up(host, d);
    expect(run.result.ok).toBe(false);
    // made once a run: the first start's failure is every start's
    const failed = [...run.result.results].filter(([, r]) => r.status === 'failed');
    expect(failed.map(([id]) => id).sort()).toEqual(['zone.cron', 'zone.db']);
    for (const [, r] of failed) expect(r.status === 'failed' && r.error.message).toMatch(/supervisors cgroup zonectl\/proj: EACCES/);
    expect(host.zones.running('proj')).toEqual([]);
    // the next run makes it, and converges
    expect((await up(host, d)).result.ok).toBe(true);
    await expectConverged(host, d);
  });

  it('a new zone starts before its network is made, and is skipped with nothing left when the network fails', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    // the project exists already: the new zones wait for no cgroup of the project, only for their networks
    expect((await up(host, desiredFrom('zones:\n  cron:\n    command: /bin/cron\n    limits: { pids: 16 }\n'))).result.ok).toBe(true);
    host.net.failNext = { call: 'ensureNetwork', code: 'ENOBUFS' };
    const run = await up(host, d, { concurrency: 64 });
    // the first network made fails: back (db and api are on it)
    const failed = [...run.result.results].filter(([, r]) => r.status === 'failed').map(([id]) => id);
    expect(failed).toEqual(['network.back']);
    expect(run.result.results.get('zone.db')).toEqual({ status: 'skipped', because: 'network.back' });
    expect(run.result.results.get('zone.api')?.status).toBe('skipped');
    expect(run.result.results.get('zone.web')).toEqual({ status: 'skipped', because: 'zone.api' });
    // db began (cgroup, namespace, the helper assembling it) alongside its network, and left nothing behind
    const [began, networkFailed] = [run.events.indexOf('start zone.db'), run.events.indexOf('failed network.back')];
    expect(began).toBeGreaterThanOrEqual(0);
    expect(began).toBeLessThan(networkFailed);
    expect(host.zones.calls.filter((c) => c.startsWith('start ')).sort()).toEqual(['start proj/cron', 'start proj/db']);
    expect(host.zones.running('proj')).toEqual(['cron']);
    expect(await host.cgroup.list('proj')).toEqual(['cron']);
    expect([...host.zones.netns].sort()).toEqual(['proj/cron']);
    const next = await up(host, d);
    expect(next.result.ok).toBe(true);
    await expectConverged(host, d);
  });

  it('a failure in a cgroup step names the step; the zone converges on the next run', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    host.cgroup.failOn('cron', 'apply', 'EINVAL');
    const run = await up(host, d);
    const cron = run.result.results.get('zone.cron');
    expect(cron?.status === 'failed' && [cron.step, cron.error.message]).toEqual(['apply limits', 'apply limits: apply cgroup zonectl/proj/cron: EINVAL']);
    expect(host.zones.running('proj')).toEqual(['api', 'db', 'web']);
    expect((await up(host, d)).result.ok).toBe(true);
    await expectConverged(host, d);
  });

  it('executes in an order that respects after_actions, also with parallelism', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    const run = await up(host, d, { concurrency: 8 });
    expectOrderRespected(run);
    // The chain db → api → web is serial; cron and the networks need only the project.
    const starts = run.events.filter((e) => e.startsWith('start ')).map((e) => e.slice(6));
    expect(starts.indexOf('zone.db')).toBeLessThan(starts.indexOf('zone.api'));
    expect(run.events.indexOf('done zone.db')).toBeLessThan(run.events.indexOf('start zone.api'));
    expect(run.events.indexOf('done zone.api')).toBeLessThan(run.events.indexOf('start zone.web'));
    // Independent actions do run together: cron started before db finished.
    expect(run.events.indexOf('start zone.cron')).toBeLessThan(run.events.indexOf('done zone.db'));

    // down: dependents stop before what they depend on.
    const empty = { ...d, zones: {}, networks: {} };
    const down = await up(host, empty);
    expect(down.result.ok).toBe(true);
    expectOrderRespected(down);
    const stops = host.zones.calls.filter((c) => c.startsWith('stop ')).map((c) => c.split(' ')[1]);
    expect(stops.indexOf('proj/web')).toBeLessThan(stops.indexOf('proj/api'));
    expect(stops.indexOf('proj/api')).toBeLessThan(stops.indexOf('proj/db'));
    await expectConverged(host, empty);
    expect(host.zones.netns.size).toBe(0);
    expect(host.net.zones.get('proj')).toBeUndefined();
  });

  it('applies the nftables rules alongside the actions, settled before any zone starts; a failure is reported as rules', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    const log: string[] = [];
    const applyRules = host.net.applyRules.bind(host.net);
    host.net.applyRules = async (project, rules) => {
      log.push('rules begin');
      await new Promise((r) => setTimeout(r, 30));
      await applyRules(project, rules);
      log.push('rules end');
    };
    const start = host.zones.start.bind(host.zones);
    host.zones.start = async (project, zone, opts) => {
      const started = await start(project, zone, opts); // resolves once the command runs
      log.push(`start ${zone.name}`);
      return started;
    };
    const run = await up(host, d, { concurrency: 8 });
    expect(run.result.ok).toBe(true);
    expect(log[0]).toBe('rules begin'); // not after the zones
    expect(log[1]).toBe('rules end');
    expect(log.slice(2).sort()).toEqual(['start api', 'start cron', 'start db', 'start web']);

    host.net.applyRules = async () => {
      throw new Error('nft: EPERM');
    };
    const changed = desiredFrom(BASE.replace('pids: 16', 'pids: 32'));
    const next = await up(host, changed);
    expect(next.result.results.get('rules')).toMatchObject({ status: 'failed', step: 'apply nftables rules' });
    expect(next.result.results.get('zone.cron')?.status).toBe('done');
    expect(next.result.ok).toBe(false);
  });

  it('repairs a zone started but never recorded (crash between start and record)', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    await up(host, d);
    const pid = host.zones.records.get('proj/cron')!.pid;
    await host.state.removeZone('proj', 'cron');
    const p = await planOn(host, d);
    expect(compactPlan(p)).toMatch(/^replace zone\.cron/);
    expect((await up(host, d)).result.ok).toBe(true);
    expect(host.zones.records.get('proj/cron')!.pid).not.toBe(pid);
    await expectConverged(host, d);
  });

  it('repairs a zone with records but no process (it died, or the supervisor record is gone)', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    await up(host, d);
    host.zones.killZone('proj', 'db', 137);
    host.zones.records.delete('proj/cron'); // records (spec, cgroup, netns) without any process
    const p = await planOn(host, d);
    const causes = Object.fromEntries(p.actions.map((a) => [a.id, `${a.kind}: ${a.cause}`]));
    expect(causes).toEqual({ 'zone.db': 'replace: it exited (code 137)', 'zone.cron': 'replace: it is not running' });
    expect((await up(host, d)).result.ok).toBe(true);
    await expectConverged(host, d);
    expect((await planOn(host, d)).actions).toEqual([]);
  });

  it('repairs a zone left half-made by a failed start (a cgroup; no netns: it went with the start)', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    host.zones.failOn('web', 'start', 'EINTR');
    await up(host, d);
    expect(await host.cgroup.list('proj')).toContain('web');
    expect(host.zones.netns.has('proj/web')).toBe(false);
    expect(await host.state.readZone('proj', 'web')).toBeNull();
    expect((await up(host, d)).result.ok).toBe(true);
    await expectConverged(host, d);
  });

  it('repairs a zone whose records outlived its cgroup (crash while deleting)', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    await up(host, d);
    await host.zones.stop('proj', 'cron', 0);
    await host.cgroup.remove('proj', 'cron');
    // spec.json and hosts are left: the record says how it was made, the kernel has nothing.
    const p = await planOn(host, d);
    expect(compactPlan(p)).toMatch(/^replace zone\.cron/);
    expect((await up(host, d)).result.ok).toBe(true);
    await expectConverged(host, d);
    // And pruning such a zone removes its records too.
    await host.zones.stop('proj', 'cron', 0);
    await host.cgroup.remove('proj', 'cron');
    const without = desiredFrom(BASE.replace(/ {2}cron:\n.*\n.*\n/, ''));
    expect(Object.keys(without.zones)).not.toContain('cron');
    expect((await up(host, without)).result.ok).toBe(true);
    await expectConverged(host, without);
  });

  it('restarts a running zone whose cgroup is gone inside a new one (it was no longer confined)', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    await up(host, d);
    const pid = host.zones.records.get('proj/cron')!.pid;
    host.cgroup.groups.get('proj')!.delete('cron');
    const run = await up(host, d);
    expect(run.result.ok, JSON.stringify([...run.result.results])).toBe(true);
    expect(host.zones.records.get('proj/cron')!.pid).not.toBe(pid);
    await expectConverged(host, d);
    expect((await planOn(host, d)).actions).toEqual([]);
  });

  it('reverts drift made by hand: a limit, a deleted veth, a deleted bridge', async () => {
    host = await newHost();
    const d = desiredFrom(BASE);
    await up(host, d);
    const pids = Object.fromEntries(['web', 'api', 'db', 'cron'].map((z) => [z, host.zones.records.get(`proj/${z}`)!.pid]));
    host.cgroup.groups.get('proj')!.get('db')!.memory = 1 << 30;
    delete host.net.zones.get('proj')!.get('api')!.attachments.back;
    // `ip link del` of a bridge: its veths stay, no longer enslaved to anything.
    host.net.networks.get('proj')!.delete('front');
    const callsBefore = host.net.calls.length;
    const run = await up(host, d);
    expect(run.result.ok).toBe(true);
    // The new bridge gets its zones back: each one's veth is plugged in again.
    const replugged = host.net.calls.slice(callsBefore).flatMap((c) => (c.call === 'attach' && c.network === 'front' ? [c.zone] : []));
    expect(replugged.sort()).toEqual(['api', 'web']);
    await expectConverged(host, d);
    expect((await planOn(host, d)).actions).toEqual([]);
    // All of it in place: no zone restarted.
    expect(Object.fromEntries(['web', 'api', 'db', 'cron'].map((z) => [z, host.zones.records.get(`proj/${z}`)!.pid]))).toEqual(pids);
  });
});
