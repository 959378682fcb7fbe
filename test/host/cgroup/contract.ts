// The CgroupDriver contract: one suite, run against the v1 fake tree, the v2 fake tree
// (contract.test.ts) and, as root, the real hierarchy of this machine
// (test/integration/cgroup.test.ts).

import { existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CgroupDriver, LimitOutcome } from '../../../src/host/cgroup/driver.js';
import { HostError } from '../../../src/host/errors.js';
import type { Limits } from '../../../src/model/types.js';
import { limits, MiB, neutral } from './fixtures.js';

export interface ContractTarget {
  driver: CgroupDriver;
  project: string;
  /** A process that may be moved into a zone (fake or real). */
  spawn(): Promise<number>;
  /** Called after every test and at the end, even on failure. */
  cleanup(): Promise<void>;
  /** A CPU this host has, and one more if it has two. */
  cpus: number[];
  /** v1: where systemd tracks units (a hybrid host's cgroup2 hierarchy, else name=systemd): the project's zones and supervisors live in zonectl/PROJECT there. */
  services: string[];
}

/** One limit at a time, each a value away from the default. */
export function samples(cpus: number[]): [string, Limits][] {
  return [
    ['cpus 0.5', limits({ cpus: { quota_us: 50_000, period_us: 100_000 } })],
    ['cpus 1.5', limits({ cpus: { quota_us: 150_000, period_us: 100_000 } })],
    ['cpu_weight 1', limits({ cpu_weight: 1 })],
    ['cpu_weight 150', limits({ cpu_weight: 150 })],
    ['cpu_weight 10000', limits({ cpu_weight: 10_000 })],
    ...cpus.map((c): [string, Limits] => [`cpuset ${c}`, limits({ cpuset: [c] })]),
    ['memory 64M', limits({ memory: 64 * MiB })],
    ['memory 100000000 (not page-aligned)', limits({ memory: 100_000_000 })],
    ['memory 64M + swap 32M', limits({ memory: 64 * MiB, memory_swap: 32 * MiB })],
    ['memory 64M + unlimited swap', limits({ memory: 64 * MiB, memory_swap: null })],
    ['memory_reservation 32M', limits({ memory: 64 * MiB, memory_reservation: 32 * MiB })],
    ['pids 64', limits({ pids: 64 })],
    ['io.weight 200', limits({ io: { weight: 200, devices: {} } })],
    ['io.weight 5000', limits({ io: { weight: 5000, devices: {} } })],
    ['io device /dev/vda', limits({ io: { weight: 100, devices: { '/dev/vda': { read_bps: MiB, write_bps: null, read_iops: null, write_iops: 100 } } } })],
  ];
}

function notApplied(outcomes: LimitOutcome[]): LimitOutcome[] {
  return outcomes.filter((o) => o.status !== 'applied');
}

export function cgroupContract(name: string, makeTarget: () => Promise<ContractTarget>): void {
  describe(`CgroupDriver contract: ${name}`, () => {
    let t: ContractTarget;
    let d: CgroupDriver;
    beforeAll(async () => {
      t = await makeTarget();
      d = t.driver;
      const report = await d.ensureProject(t.project, neutral());
      expect(notApplied(report.outcomes)).toEqual([]);
    });
    afterEach(async () => {
      for (const zone of await d.list(t.project)) await d.remove(t.project, zone);
    });
    afterAll(async () => {
      try {
        await d.removeProject(t.project);
        expect(await d.projects()).not.toContain(t.project);
      } finally {
        await t.cleanup();
      }
    });

    it('creates a zone idempotently and lists it', async () => {
      await d.create(t.project, 'a');
      await d.create(t.project, 'a');
      await d.create(t.project, 'b');
      expect(await d.list(t.project)).toEqual(['a', 'b']);
      expect(await d.projects()).toContain(t.project);
    });

    it('reads a zone given the neutral limits as them', async () => {
      await d.create(t.project, 'fresh');
      expect(notApplied((await d.apply(t.project, 'fresh', neutral())).outcomes)).toEqual([]);
      expect(await d.read(t.project, 'fresh')).toEqual(d.canonical(neutral()));
    });

    it('reports a new zone\'s limits as an apply after it finds them (its first skips reading the neutral ones)', async () => {
      const wanted = limits({ memory: 64 * MiB, pids: 32, cpus: { quota_us: 50_000, period_us: 100_000 } });
      const byLimit = (os: LimitOutcome[]): LimitOutcome[] => [...os].sort((a, b) => a.limit.localeCompare(b.limit));
      for (const l of [wanted, neutral()]) {
        await d.create(t.project, 'new');
        const first = await d.apply(t.project, 'new', l);
        expect(notApplied(first.outcomes)).toEqual([]);
        expect(await d.read(t.project, 'new')).toEqual(d.canonical(l));
        // v1 writes the growing one of memory and memsw first: their order may differ
        expect(byLimit((await d.apply(t.project, 'new', l)).outcomes)).toEqual(byLimit(first.outcomes));
        await d.remove(t.project, 'new');
      }
    });

    it.each(samples([0, 1]))('round-trips %s through apply and read', async (_, wanted) => {
      const cpus = wanted.cpuset === null ? wanted : { ...wanted, cpuset: wanted.cpuset.filter((c) => t.cpus.includes(c)) };
      if (cpus.cpuset !== null && cpus.cpuset.length === 0) return; // the host lacks that CPU
      await d.create(t.project, 'rt');
      const report = await d.apply(t.project, 'rt', cpus);
      expect(notApplied(report.outcomes)).toEqual([]);
      expect(await d.read(t.project, 'rt')).toEqual(d.canonical(cpus));
      // and back: null / default clears every limit
      expect(notApplied((await d.apply(t.project, 'rt', neutral())).outcomes)).toEqual([]);
      expect(await d.read(t.project, 'rt')).toEqual(d.canonical(neutral()));
    });

    it('applies the global zone\'s limits at the project level', async () => {
      const global = limits({ memory: 512 * MiB, pids: 256, cpus: { quota_us: 150_000, period_us: 100_000 } });
      expect(notApplied((await d.ensureProject(t.project, global)).outcomes)).toEqual([]);
      expect(await d.read(t.project, null)).toEqual(d.canonical(global));
      await d.ensureProject(t.project, neutral());
    });

    it('moves a process in, lists it, kills it and removes the zone', async () => {
      const files = await d.create(t.project, 'p');
      const pid = await t.spawn();
      expect(files.length).toBe(d.version === 2 ? 1 : new Set(files).size);
      for (const f of files) expect(f).toMatch(new RegExp(`/zonectl/${t.project}(/p)?/cgroup\\.procs$`));
      for (const h of t.services) expect(files).toContain(`${h}/zonectl/${t.project}/cgroup.procs`); // out of the unit that ran zonectl
      await d.addProcess(t.project, 'p', pid);
      expect(await d.procs(t.project, 'p')).toEqual([pid]);
      await d.kill(t.project, 'p');
      expect(await d.procs(t.project, 'p')).toEqual([]);
      await d.remove(t.project, 'p');
      expect(await d.list(t.project)).not.toContain('p');
      await d.remove(t.project, 'p'); // absent: no-op
    });

    it("keeps the project's supervisors in a cgroup of their own (v2: beside the project's; v1: the project's where systemd tracks units), and removes it with the project, killing a supervisor left in it", async () => {
      const files = await d.supervisors(t.project);
      expect(await d.supervisors(t.project)).toEqual(files);
      if (d.version === 2) expect(files).toEqual([expect.stringMatching(new RegExp(`/zonectl/${t.project}\\.supervisors/cgroup\\.procs$`))]);
      else expect(files).toEqual(t.services.map((h) => `${h}/zonectl/${t.project}/cgroup.procs`));
      expect(await d.projects()).toContain(t.project);
      expect(await d.projects()).not.toContain(`${t.project}.supervisors`);
      expect(await d.list(t.project)).toEqual([]);
      const pid = await t.spawn();
      for (const f of files) writeFileSync(f, String(pid));
      await d.removeProject(t.project);
      for (const f of files) expect(existsSync(dirname(f)), dirname(f)).toBe(false);
      await d.ensureProject(t.project, neutral()); // for the tests after this one
    });

    it('removes a zone that still has processes', async () => {
      await d.create(t.project, 'busy');
      await d.addProcess(t.project, 'busy', await t.spawn());
      await d.remove(t.project, 'busy');
      expect(await d.list(t.project)).toEqual([]);
    });

    it('reports usage with the limit in force', async () => {
      await d.create(t.project, 'u');
      await d.apply(t.project, 'u', limits({ memory: 64 * MiB, pids: 32 }));
      const u = await d.usage(t.project, 'u');
      expect(u.memory.limit).toBe(64 * MiB);
      expect(u.pids.limit).toBe(32);
      expect(u.unavailable).toEqual([]);
      for (const n of [u.cpu.usage_ns, u.cpu.throttled_periods, u.memory.current, u.memory.oom_kills, u.pids.current, u.io.read_bytes]) expect(Number.isInteger(n)).toBe(true);
    });

    it('reads the memory in use alone as usage() reports it, and refuses a missing zone', async () => {
      await d.create(t.project, 'm');
      const current = await d.memoryCurrent(t.project, 'm');
      expect(Number.isInteger(current)).toBe(true);
      expect(current).toBeGreaterThanOrEqual(0);
      const err = await d.memoryCurrent(t.project, 'nope').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostError);
      expect((err as HostError).message).toContain(`zonectl/${t.project}/nope`);
    });

    it('refuses to apply to a zone that does not exist, naming it', async () => {
      const err = await d.apply(t.project, 'nope', neutral()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostError);
      expect((err as HostError).message).toContain(`zonectl/${t.project}/nope`);
    });

    it('reports a cpuset the host lacks as infeasible, naming the file', async () => {
      await d.create(t.project, 'c');
      const report = await d.apply(t.project, 'c', limits({ cpuset: [4095] }));
      const o = report.outcomes.find((x) => x.limit === 'cpuset');
      expect(o?.status).toBe('infeasible');
      expect(o?.reason).toMatch(/cpuset\.(cpus|effective_cpus|cpus\.effective)/);
    });
  });
}
