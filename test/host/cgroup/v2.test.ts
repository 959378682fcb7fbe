// cgroup v2 driver on a fake tree: exact files and values written, ordering, and the
// honest outcomes (deferred, infeasible).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeCgroupFs } from '../../../src/host/cgroup/fs.js';
import { HostError } from '../../../src/host/errors.js';
import type { FakeSetup } from './fixtures.js';
import { fakeDriver, limits, MiB, neutral } from './fixtures.js';

const ZONE = 'zonectl/shop/web';
let setups: FakeSetup[] = [];

async function ready(options: Parameters<typeof fakeDriver>[0] = { version: 2 }): Promise<FakeSetup> {
  const s = await fakeDriver(options);
  setups.push(s);
  await s.driver.ensureProject('shop', neutral());
  await s.driver.create('shop', 'web');
  s.fake.writes.length = 0;
  return s;
}

afterEach(() => {
  for (const s of setups) s.fake.dispose();
  setups = [];
});

describe('cgroup v2 driver', () => {
  it('enables the controllers the root offers along zonectl/PROJECT, and no more', async () => {
    const s = await fakeDriver({ version: 2, controllers: ['cpu', 'memory', 'pids'] });
    setups.push(s);
    await s.driver.ensureProject('shop', neutral());
    await s.driver.create('shop', 'web');
    const enabling = s.fake.writes.filter((w) => w.path.endsWith('cgroup.subtree_control'));
    expect(enabling).toEqual([
      { path: 'cgroup.subtree_control', value: '+cpu' },
      { path: 'cgroup.subtree_control', value: '+memory' },
      { path: 'cgroup.subtree_control', value: '+pids' },
      { path: 'zonectl/cgroup.subtree_control', value: '+cpu' },
      { path: 'zonectl/cgroup.subtree_control', value: '+memory' },
      { path: 'zonectl/cgroup.subtree_control', value: '+pids' },
      { path: 'zonectl/shop/cgroup.subtree_control', value: '+cpu' },
      { path: 'zonectl/shop/cgroup.subtree_control', value: '+memory' },
      { path: 'zonectl/shop/cgroup.subtree_control', value: '+pids' },
    ]);
    expect(s.fake.get(`${ZONE}/cgroup.controllers`)).toBe('cpu memory pids');
  });

  it('writes every limit to its file, in order, with the kernel\'s syntax', async () => {
    const { fake, driver } = await ready();
    const report = await driver.apply('shop', 'web', {
      cpus: { quota_us: 50_000, period_us: 100_000 },
      cpu_weight: 150,
      cpuset: [1, 2, 3],
      memory: 256 * MiB,
      memory_swap: 0,
      memory_reservation: 64 * MiB,
      pids: 64,
      io: { weight: 200, devices: { '/dev/vda': { read_bps: MiB, write_bps: null, read_iops: null, write_iops: 100 } } },
    });
    expect(report.outcomes.map((o) => o.status)).toEqual(Array(report.outcomes.length).fill('applied'));
    expect(fake.writesUnder(ZONE)).toEqual([
      { path: `${ZONE}/cpu.max`, value: '50000 100000' },
      { path: `${ZONE}/cpu.weight`, value: '150' },
      { path: `${ZONE}/cpuset.cpus`, value: '1-3' },
      { path: `${ZONE}/memory.max`, value: '268435456' },
      { path: `${ZONE}/memory.swap.max`, value: '0' },
      { path: `${ZONE}/memory.low`, value: '67108864' },
      { path: `${ZONE}/pids.max`, value: '64' },
      { path: `${ZONE}/io.weight`, value: 'default 200' },
      { path: `${ZONE}/io.max`, value: '254:0 rbps=1048576 wbps=max riops=max wiops=100' },
    ]);
    expect(report.cgroup).toBe(ZONE);
    expect(report.outcomes.find((o) => o.limit === 'io.devices./dev/vda')?.file).toBe(fake.path(`${ZONE}/io.max`));
  });

  it('writes nothing when the kernel already holds every limit, and still reports each applied', async () => {
    const { fake, driver } = await ready();
    const l = limits({ cpus: { quota_us: 50_000, period_us: 100_000 }, cpuset: [1], memory: 256 * MiB, memory_reservation: 64 * MiB, pids: 64, io: { weight: 200, devices: { '/dev/vda': { read_bps: MiB, write_bps: null, read_iops: null, write_iops: null } } } });
    const first = await driver.apply('shop', 'web', l);
    fake.writes.length = 0;
    const again = await driver.apply('shop', 'web', l);
    expect(fake.writesUnder(ZONE)).toEqual([]);
    expect(again.outcomes).toEqual(first.outcomes);
    expect(again.outcomes.every((o) => o.status === 'applied')).toBe(true);
  });

  it('writes each limit of a cgroup it has just made without reading it first, and looks for each control file once a run', async () => {
    const { fake, driver } = await ready();
    fake.reads.length = 0;
    const l = limits({ cpus: { quota_us: 50_000, period_us: 100_000 }, memory: 256 * MiB, pids: 64 });
    expect((await driver.apply('shop', 'web', l)).outcomes.filter((o) => o.status !== 'applied')).toEqual([]);
    // the writes' read-backs only: nothing has joined a cgroup before its first apply, so there is no usage to read
    expect(fake.reads.sort()).toEqual([`${ZONE}/cpu.max`, `${ZONE}/memory.max`, `${ZONE}/memory.swap.max`, `${ZONE}/pids.max`]);
    expect(fake.writes.map((w) => w.path)).toEqual([`${ZONE}/cpu.max`, `${ZONE}/memory.max`, `${ZONE}/memory.swap.max`, `${ZONE}/pids.max`]);
    await driver.create('shop', 'api');
    fake.stats.length = 0;
    expect((await driver.apply('shop', 'api', l)).outcomes.filter((o) => o.status !== 'applied')).toEqual([]);
    expect(fake.stats).toEqual([]);
    expect(fake.get('zonectl/shop/api/memory.max')).toBe(String(256 * MiB));
  });

  it('reads no file of a neutral limit in a cgroup it has just made, and every file once it has applied to it', async () => {
    const { fake, driver } = await ready();
    const neutralFiles = ['cpu.max', 'cpu.weight', 'cpuset.cpus', 'memory.max', 'memory.low', 'io.weight', 'io.max'].map((f) => `${ZONE}/${f}`);
    fake.reads.length = 0;
    await driver.apply('shop', 'web', limits({ pids: 64, memory_swap: null }));
    expect(neutralFiles.filter((f) => fake.reads.includes(f))).toEqual([]);
    expect(fake.reads).toContain(`${ZONE}/pids.max`);
    // the kernel's value is what counts from now on: a neutral limit changed behind zonectl's back is put back
    await fake.write(fake.path(`${ZONE}/cpu.weight`), '300');
    fake.reads.length = 0;
    await driver.apply('shop', 'web', limits({ pids: 64, memory_swap: null }));
    expect(neutralFiles.filter((f) => !fake.reads.includes(f))).toEqual([]);
    expect(fake.get(`${ZONE}/cpu.weight`)).toBe('100');
  });

  it('clears with max / empty, and clears io.max lines no longer wanted', async () => {
    const { fake, driver } = await ready();
    await driver.apply('shop', 'web', limits({ cpuset: [1], cpus: { quota_us: 150_000, period_us: 100_000 }, io: { weight: 100, devices: { '/dev/vda': { read_bps: MiB, write_bps: null, read_iops: null, write_iops: null } } } }));
    fake.writes.length = 0;
    await driver.apply('shop', 'web', neutral());
    // only what differs is written: the rest already holds its neutral value
    expect(fake.writesUnder(ZONE)).toEqual([
      { path: `${ZONE}/cpu.max`, value: 'max 100000' },
      { path: `${ZONE}/cpuset.cpus`, value: '\n' },
      { path: `${ZONE}/io.max`, value: '254:0 rbps=max wbps=max riops=max wiops=max' },
    ]);
    expect(fake.get(`${ZONE}/io.max`)).toBe('');
  });

  it('stages a shrink below usage in memory.high and applies memory.max once reclaim gets there', async () => {
    const { fake, driver } = await ready();
    await driver.apply('shop', 'web', neutral()); // a zone that ran: not fresh any more
    fake.writes.length = 0;
    fake.set(`${ZONE}/memory.current`, String(300 * MiB));
    fake.onWrite = (path, value) => {
      if (path.endsWith('memory.high') && value !== 'max') fake.set(`${ZONE}/memory.current`, String(100 * MiB)); // reclaim works
    };
    const report = await driver.apply('shop', 'web', limits({ memory: 256 * MiB }));
    expect(report.outcomes.find((o) => o.limit === 'memory')?.status).toBe('applied');
    expect(fake.writesUnder(`${ZONE}/memory.`).slice(0, 3)).toEqual([
      { path: `${ZONE}/memory.high`, value: '268435456' },
      { path: `${ZONE}/memory.max`, value: '268435456' },
      { path: `${ZONE}/memory.high`, value: 'max' },
    ]);
  });

  it('defers a shrink that reclaim cannot reach, leaving memory.max alone and the value staged', async () => {
    const { fake, driver } = await ready({ version: 2, reclaimTimeoutMs: 100 });
    await driver.apply('shop', 'web', neutral()); // a zone that ran: not fresh any more
    fake.set(`${ZONE}/memory.current`, String(300 * MiB));
    const report = await driver.apply('shop', 'web', limits({ memory: 256 * MiB }));
    const o = report.outcomes.find((x) => x.limit === 'memory');
    expect(o?.status).toBe('deferred');
    expect(o?.reason).toContain('memory.current is 314572800, above 268435456 after 100 ms of reclaim; staged in');
    expect(fake.get(`${ZONE}/memory.max`)).toBe('max');
    expect(fake.get(`${ZONE}/memory.high`)).toBe('268435456');
    expect((await driver.read('shop', 'web')).memory).toBeNull();
  });

  it('reports a limit whose controller is not enabled as infeasible, naming the controller and file; neutral values pass', async () => {
    const { driver, fake } = await ready({ version: 2, controllers: ['cpu', 'memory', 'pids'] });
    const report = await driver.apply('shop', 'web', limits({ io: { weight: 200, devices: {} }, cpuset: [1] }));
    const io = report.outcomes.find((o) => o.limit === 'io.weight');
    expect(io).toMatchObject({ status: 'infeasible', file: fake.path(`${ZONE}/io.weight`) });
    expect(io?.reason).toBe(`controller io is not available here: ${fake.path(`${ZONE}/io.weight`)} is absent`);
    expect(report.outcomes.find((o) => o.limit === 'cpuset')?.reason).toContain('controller cpuset');
    const calm = await driver.apply('shop', 'web', neutral());
    expect(calm.outcomes.filter((o) => o.status !== 'applied')).toEqual([]);
  });

  it('without swap accounting: swap on top is infeasible; "no swap" holds only on a host without swap', async () => {
    const noSwapHost = await ready({ version: 2, swapAccounting: false, hostHasSwap: false });
    const r1 = await noSwapHost.driver.apply('shop', 'web', limits({ memory: 64 * MiB, memory_swap: 32 * MiB }));
    expect(r1.outcomes.find((o) => o.limit === 'memory_swap')?.reason).toMatch(/swap accounting is not available here: .*memory\.swap\.max is absent/);
    const r2 = await noSwapHost.driver.apply('shop', 'web', limits({ memory: 64 * MiB }));
    expect(r2.outcomes.find((o) => o.limit === 'memory_swap')?.status).toBe('applied');
    const swapHost = await ready({ version: 2, swapAccounting: false, hostHasSwap: true });
    const r3 = await swapHost.driver.apply('shop', 'web', limits({ memory: 64 * MiB }));
    expect(r3.outcomes.find((o) => o.limit === 'memory_swap')?.status).toBe('infeasible');
  });

  it('refuses CPUs outside the parent\'s effective set, naming the file', async () => {
    const { driver, fake } = await ready({ version: 2, cpus: '0-1' });
    const o = (await driver.apply('shop', 'web', limits({ cpuset: [1, 2, 3] }))).outcomes.find((x) => x.limit === 'cpuset');
    expect(o?.reason).toBe(`CPUs 2-3 are not in ${fake.path('zonectl/shop/cpuset.cpus.effective')} (0-1)`);
    expect(fake.writesUnder(`${ZONE}/cpuset.cpus`)).toEqual([]);
  });

  it('reads usage from cpu.stat, memory.*, pids.* and io.stat', async () => {
    const { fake, driver } = await ready();
    fake.set(`${ZONE}/cpu.stat`, 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 2000\n');
    fake.set(`${ZONE}/memory.current`, '1048576');
    fake.set(`${ZONE}/memory.peak`, '2097152');
    fake.set(`${ZONE}/memory.events`, 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    fake.set(`${ZONE}/pids.current`, '5');
    fake.set(`${ZONE}/io.stat`, '254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=1 rios=1 wios=1 dbytes=0 dios=0\n');
    expect(await driver.usage('shop', 'web')).toEqual({
      cpu: { usage_ns: 1_500_000, user_ns: 1_000_000, system_ns: 500_000, periods: 10, throttled_periods: 4, throttled_ns: 2_000_000 },
      memory: { current: 1_048_576, peak: 2_097_152, limit: null, oom_kills: 1 },
      pids: { current: 5, limit: null },
      io: { read_bytes: 4097, write_bytes: 8193, read_ops: 2, write_ops: 3 },
      unavailable: [],
    });
  });

  it('kills through cgroup.kill, or freezes and SIGKILLs where it is absent', async () => {
    const withKill = await ready();
    await withKill.driver.addProcess('shop', 'web', 4242);
    await withKill.driver.remove('shop', 'web');
    expect(withKill.fake.writesUnder(ZONE).map((w) => `${w.path.slice(ZONE.length + 1)}=${w.value}`)).toEqual(['cgroup.procs=4242', 'cgroup.kill=1']);

    const noKill = await ready({ version: 2, cgroupKill: false });
    await noKill.driver.addProcess('shop', 'web', 4242);
    await noKill.driver.create('shop', 'web'); // idempotent
    await noKill.driver.remove('shop', 'web');
    expect(noKill.fake.writesUnder(ZONE).map((w) => `${w.path.slice(ZONE.length + 1)}=${w.value}`)).toEqual(['cgroup.procs=4242', 'cgroup.freeze=1', 'cgroup.freeze=0']);
    expect(await noKill.driver.list('shop')).toEqual([]);
  });

  it('fails with a bound when a process will not die, naming the cgroup', async () => {
    const s = await fakeDriver({ version: 2, cgroupKill: false });
    setups.push(s);
    const stubborn = await (await import('../../../src/host/cgroup/index.js')).createCgroupDriver({
      root: s.fake.root, mountinfo: s.fake.mountinfo(), fs: s.fake, signal: () => undefined, hostHasSwap: false, swapAccounting: true,
      timings: { removeTimeoutMs: 100, pollMs: 10 },
    });
    await stubborn.ensureProject('shop', neutral());
    await stubborn.create('shop', 'web');
    await stubborn.addProcess('shop', 'web', 4242);
    await expect(stubborn.remove('shop', 'web')).rejects.toThrow('kill processes of zonectl/shop/web: 1 still running after 100 ms (pids 4242)');
  });

  it('removes nested cgroups bottom-up', async () => {
    const { fake, driver } = await ready();
    await fake.mkdir(fake.path(`${ZONE}/inner`));
    await fake.mkdir(fake.path(`${ZONE}/inner/deeper`));
    await driver.removeProject('shop');
    expect(await driver.projects()).toEqual([]);
  });
});

describe('nodeCgroupFs errors', () => {
  it('name the file, the value written and the kernel\'s code, keeping the cause', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonectl-fs-'));
    try {
      const err = await nodeCgroupFs.write(join(dir, 'memory.max'), '268435456').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostError);
      expect((err as HostError).message).toBe(`write 268435456 to ${join(dir, 'memory.max')}: ENOENT`);
      expect(err).toMatchObject({ code: 'ENOENT', path: join(dir, 'memory.max'), value: '268435456' });
      expect((err as HostError).cause).toBeInstanceOf(Error);
      expect(await nodeCgroupFs.mkdir(join(dir, 'x'))).toBe(true);
      expect(await nodeCgroupFs.mkdir(join(dir, 'x'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
